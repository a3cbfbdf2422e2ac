/*
 * The loads, bulk and import: many rows read once, each only as far as it
 * is needed, and sent in multi-row batches, all or nothing. Next to
 * player.c, in terms of db.c and csv.c.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tidbplay.h"

/*
 * Before attempt + 2 of something that met a retryable error: wait, or
 * say that the attempts are used up. Returns -1 when there is no attempt
 * to make; *cause then says why.
 */
static int
retry_wait(struct db *db, unsigned int attempt, unsigned int err,
    char **cause)
{
	char	*why;

	if (attempt + 1 >= db_retries(db)) {
		if (attempt > 0) {
			why = *cause;
			xasprintf(cause, "%s (gave up after %u attempts)", why,
			    attempt + 1);
			free(why);
		}
		return -1;
	}
	free(*cause);
	*cause = NULL;
	return db_backoff(db, attempt, err, cause) != 0 ? -1 : 0;
}

/* What a failed load left behind. */
enum undo {
	UNDO_ALL,	/* nothing: its own transaction, or one statement */
	UNDO_LOAD,	/* the user's transaction, as it was before it */
	UNDO_TXN,	/* the user's transaction, rolled back whole by us */
	UNDO_GONE	/* the user's transaction, ended (the cause says so) */
};

/*
 * A pipelined load keeps at most this many batches, and about this many
 * bytes, sent and not yet answered: across 50 ms round trips enough to
 * keep the server busy, and a bound on what a failure leaves running.
 */
#define PIPE_BATCHES	32
#define PIPE_BYTES	(1024 * 1024)

/*
 * A load (bulk, import): the rows next() hands out, read once, go to the
 * server in multi-row INSERTs of up to cap rows, all or nothing. Rows that
 * fit one statement are that statement alone, atomic by itself; more go
 * in a transaction of ours, or in the user's.
 */
struct load {
	int		(*next)(void *, struct player *, unsigned long *,
			    char **);
	int		(*restart)(void *);	/* NULL: the rows come once */
	int		 reread;	/* restart reads the same rows, at
					   once: they can be pipelined */
	void		*arg;
	unsigned int	 cap;
	progress_cb	 progress;
	void		*parg;
	unsigned long long total;	/* 0: not known in advance */
	unsigned long long hint;	/* rows to expect, roughly; 0: unknown */
	int		 begun;		/* our pipelined transaction was begun
					   before its first batch was read */

	struct player	*rows;		/* the batch, rows[0..k) */
	unsigned long	*lines;		/* where each row comes from */
	unsigned int	 k;
	int		 held;		/* rows[k] was read, for the next */
	int		 ended;		/* next() has said the end */
	int		 sent_failed;	/* the server refused the batch */
	int		 unread;	/* a retry needed the rows again */
	int		 too_large;	/* for one transaction */
	int		 tidb;		/* the server is TiDB */
	char		 dup[NAME_MAX_BYTES * 2];	/* a 1062's name */
	int		 duplen;		/* -1: none */
	int		 saved;		/* the savepoint is set */
	enum undo	 undo;		/* what a failure left */
	char		*undo_why;	/* why a savepoint could not be used */
	unsigned long long done;

	size_t		 bytes;		/* of rows[0..k), as sent */
	/* A pipelined load: the batches sent and not yet answered. */
	unsigned int	 fly_k[PIPE_BATCHES];
	size_t		 fly_bytes[PIPE_BATCHES];
	unsigned int	 fly_head;
	unsigned int	 fly_n;
	size_t		 fly_sum;	/* their bytes */
	unsigned long	 nsent;		/* batches, in this attempt */
	unsigned long	 nanswered;
	unsigned long	 failed;	/* the batch the server refused */
};

/*
 * The next batch into rows[0..k): as many rows as one statement takes, by
 * the batch setting and by the bytes of the server's packet. Returns 0
 * when it is the last one, 1 when more follow (the row that would not
 * fit waits in rows[k]), -1 when a row could not be had.
 */
static int
load_fill(struct db *db, struct load *ld, char **cause)
{
	struct player	*pl;
	size_t		 b, bytes = 0;
	int		 r;

	if (ld->held) {
		ld->rows[0] = ld->rows[ld->k];
		ld->lines[0] = ld->lines[ld->k];
		ld->held = 0;
		ld->k = 1;
		bytes = ld->bytes = db_row_bytes(&ld->rows[0]);
	} else
		ld->k = ld->bytes = 0;
	while (!ld->ended) {
		pl = &ld->rows[ld->k];
		if ((r = ld->next(ld->arg, pl, &ld->lines[ld->k], cause)) < 0)
			return -1;
		if (r == 0) {
			ld->ended = 1;
			break;
		}
		b = db_row_bytes(pl);
		if (ld->k == ld->cap)
			r = 0;
		else if (ld->k > 0 &&
		    (r = db_batch_fits(db, bytes + b, cause)) < 0)
			return -1;
		if (r == 0) {
			ld->held = 1;
			return 1;
		}
		bytes += b;
		ld->bytes = bytes;
		ld->k++;
	}
	return 0;
}

static int
load_send(struct db *db, struct load *ld, char **cause)
{
	int	rc;

	if ((rc = db_insert_many(db, ld->rows, ld->k, cause)) != DB_OK) {
		ld->sent_failed = 1;
		return rc;
	}
	ld->done += ld->k;
	if (ld->progress != NULL)
		ld->progress(ld->done, ld->total, ld->parg);
	return DB_OK;
}

/* The answer to the oldest batch in flight: its rows are done. */
static int
load_answer(struct db *db, struct load *ld, char **cause)
{
	int	rc;

	if ((rc = db_insert_answer(db, cause)) != DB_OK) {
		ld->sent_failed = 1;
		ld->failed = ld->nanswered;
		return rc;
	}
	ld->nanswered++;
	ld->done += ld->fly_k[ld->fly_head];
	ld->fly_sum -= ld->fly_bytes[ld->fly_head];
	ld->fly_head = (ld->fly_head + 1) % PIPE_BATCHES;
	ld->fly_n--;
	if (ld->progress != NULL)
		ld->progress(ld->done, ld->total, ld->parg);
	return DB_OK;
}

/*
 * Batch j of this attempt back in rows[0..k), for what is said of its
 * failure: in a pipelined load it was long since overwritten, so the
 * input is read again from its start. Without it, nothing is said of
 * where the batch was.
 */
static void
load_refill(struct db *db, struct load *ld, unsigned long j)
{
	unsigned long	 i;
	char		*why = NULL;

	if (ld->restart != NULL && ld->restart(ld->arg) == 0) {
		ld->k = ld->held = ld->ended = 0;
		for (i = 0; i <= j; i++) {
			if (load_fill(db, ld, &why) < 0 || ld->k == 0)
				break;
		}
		if (i > j)
			return;
	}
	free(why);
	ld->sent_failed = 0;
	ld->k = 0;
}

/*
 * A batch of a pipelined load, sent while the server still works on those
 * before it (db_insert_send). Before a batch that needs its statement
 * prepared, which waits, and when enough are in flight, the oldest
 * answers are read first.
 */
static int
load_push(struct db *db, struct load *ld, char **cause)
{
	unsigned int	tail;
	int		rc;

	while (ld->fly_n > 0 && (!db_insert_ready(db, ld->k) ||
	    ld->fly_n == PIPE_BATCHES || ld->fly_sum + ld->bytes > PIPE_BYTES)) {
		if ((rc = load_answer(db, ld, cause)) != DB_OK)
			return rc;
	}
	if ((rc = db_insert_send(db, ld->rows, ld->k, cause)) != DB_OK) {
		ld->sent_failed = 1;
		ld->failed = ld->nsent;
		return rc;
	}
	tail = (ld->fly_head + ld->fly_n++) % PIPE_BATCHES;
	ld->fly_k[tail] = ld->k;
	ld->fly_bytes[tail] = ld->bytes;
	ld->fly_sum += ld->bytes;
	ld->nsent++;
	return DB_OK;
}

/*
 * The end of a pipelined load's batches: the answers still owed are read
 * (rc says how the sending went). After a failure they are dropped, and
 * the batch the server refused is read again for what is said of it.
 */
static int
load_drain(struct db *db, struct load *ld, int rc, char **cause)
{
	while (rc == DB_OK && ld->fly_n > 0)
		rc = load_answer(db, ld, cause);
	if (rc != DB_OK) {
		db_insert_discard(db);
		if (ld->sent_failed)
			load_refill(db, ld, ld->failed);
	}
	return rc;
}

/*
 * The savepoint a load of several batches takes inside the user's
 * transaction, so that a failure takes back the load alone. TiDB has
 * SAVEPOINT since v6.2, and refuses it in a pessimistic transaction when
 * tidb_constraint_check_in_place_pessimistic is OFF (pkg/executor/
 * simple.go, executeSavepoint): the load is then refused before any of
 * it is sent, and says why.
 */
static int
load_savepoint(struct db *db, char **cause)
{
	char	*why;
	int	 rc;

	if ((rc = db_exec(db, ST_SAVEPOINT, NULL, NULL, NULL, &why)) ==
	    DB_OK)
		return DB_OK;
	if (!db_is_tidb(db)) {
		*cause = why;
		return rc;
	}
	xasprintf(cause, "more than one batch inside begin needs a savepoint, "
	    "which this TiDB refuses (SAVEPOINT needs v6.2 or later, and "
	    "tidb_constraint_check_in_place_pessimistic ON in a pessimistic "
	    "transaction): nothing was sent; load it outside begin, or in "
	    "parts of one batch each (%s)", why);
	free(why);
	return rc;
}

/*
 * Batch after batch, the first one filled, in one transaction: ours, or
 * the user's after a savepoint, so that a failure can take back the load
 * and nothing else of theirs. Ours is pipelined where the client library
 * can and where the rows can be had again for what a failure says; in the
 * user's, each batch waits for its answer (sent after a failure that
 * ended the user's transaction, a batch would run in autocommit).
 */
static int
load_batches(struct db *db, struct load *ld, int user, char **cause)
{
	int	pipelined = !user && ld->reread && db_can_pipeline(db);
	int	rc, more = 1;

	ld->fly_head = ld->fly_n = 0;
	ld->fly_sum = 0;
	ld->nsent = ld->nanswered = 0;
	if (ld->begun)
		rc = DB_OK;
	else if (user)
		rc = load_savepoint(db, cause);
	else if (pipelined)
		rc = db_begin_pipelined(db, cause);
	else
		rc = db_begin_ours(db, cause);
	if (rc != DB_OK)
		return rc;
	ld->saved = user;
	for (;;) {
		rc = pipelined ? load_push(db, ld, cause) :
		    load_send(db, ld, cause);
		if (rc != DB_OK || !more)
			break;
		if ((more = load_fill(db, ld, cause)) < 0) {
			rc = DB_FAIL;
			break;
		}
		if (ld->k == 0)
			break;
	}
	if (pipelined)
		rc = load_drain(db, ld, rc, cause);
	if (rc == DB_OK && !user)
		rc = db_commit(db, cause);
	return rc;
}

/*
 * A load failed inside the user's transaction after its savepoint: undo
 * it alone. Should the server no longer know the savepoint (a table
 * created on first use commits there and then), the whole transaction
 * is rolled back, and the user told so.
 */
static void
load_undo(struct db *db, struct load *ld)
{
	char	*why;

	if (!db_in_txn(db)) {
		ld->undo = UNDO_GONE;
		return;
	}
	if (!ld->saved)
		return;		/* nothing was sent */
	if (db_exec(db, ST_ROLLBACK_SAVEPOINT, NULL, NULL, NULL, &why) ==
	    DB_OK) {
		ld->undo = UNDO_LOAD;
		return;
	}
	if (!db_in_txn(db)) {
		free(why);
		ld->undo = UNDO_GONE;
		return;
	}
	db_rollback(db, NULL);
	ld->undo = UNDO_TXN;
	ld->undo_why = why;
}

/*
 * What was undone, said after why the load failed (taken): what stands
 * for the load ("imported", "added").
 */
static char *
load_undone(const struct load *ld, const char *what, char *why)
{
	char	*msg;

	switch (ld->undo) {
	case UNDO_ALL:
		xasprintf(&msg, "%s; nothing was %s", why, what);
		break;
	case UNDO_LOAD:
		/*
		 * TiDB's ROLLBACK TO SAVEPOINT keeps the locks taken after
		 * it until the transaction ends (docs: sql-statements/
		 * sql-statement-savepoint.md, "MySQL compatibility").
		 */
		if (ld->tidb && ld->saved)
			xasprintf(&msg, "%s; nothing was %s: its rows were "
			    "undone, but on TiDB they stay locked until commit "
			    "or rollback (other sessions wait on them); the "
			    "transaction is still open", why, what);
		else
			xasprintf(&msg, "%s; nothing was %s: the transaction "
			    "is still open, as it was before", why, what);
		break;
	case UNDO_TXN:
		xasprintf(&msg, "%s; nothing was %s, and as what was sent "
		    "could not be taken back alone (%s), the whole "
		    "transaction was rolled back: nothing in it was kept "
		    "(start again with begin)", why, what, ld->undo_why);
		break;
	default:
		msg = xstrdup(why);
		break;
	}
	free(why);
	return msg;
}

/* What the server said of the failure, read before anything else runs. */
static void
load_caught(struct db *db, struct load *ld)
{
	ld->too_large = db_last_too_large(db);
	ld->duplen = db_dup_value(db, ld->dup, sizeof ld->dup);
}

/*
 * Past TiDB's limits on one transaction the load cannot be all or
 * nothing: the way out is smaller loads. NULL: not that.
 */
static char *
load_too_large(const struct load *ld, const char *what,
    const char *what_to_do, const char *why)
{
	char	*msg;

	if (!ld->too_large)
		return NULL;
	xasprintf(&msg, "%s is too large for one transaction on this server "
	    "(%s): %s, each all or nothing by itself", what, why, what_to_do);
	return msg;
}

/*
 * Whether a load that will be pipelined begins its transaction before
 * its first batch is read: when it is expected to be many batches. SET
 * autocommit = 0 then carries the read of max_allowed_packet, which the
 * first batch would otherwise have asked alone (one round trip less). A
 * load that turns out to be one statement still runs whole in that
 * transaction, and has paid one round trip more than it would have.
 */
static int
load_begins_early(struct db *db, const struct load *ld, int user)
{
	return !user && ld->reread && ld->hint > ld->cap &&
	    db_can_pipeline(db);
}

static int
load_run(struct db *db, struct load *ld, char **cause)
{
	unsigned int	attempt, err;
	int		user = db_in_txn(db), r, rc, again;

	if (ld->cap > BATCH_ROWS_MAX)
		ld->cap = BATCH_ROWS_MAX;
	ld->tidb = db_is_tidb(db);
	ld->rows = xcalloc(ld->cap + 1, sizeof *ld->rows);
	ld->lines = xcalloc(ld->cap + 1, sizeof *ld->lines);
	if (user)
		ld->undo = UNDO_LOAD;
	for (attempt = 0;; attempt++) {
		ld->begun = 0;
		if (load_begins_early(db, ld, user)) {
			if ((rc = db_begin_pipelined(db, cause)) != DB_OK) {
				load_caught(db, ld);
				return rc;
			}
			ld->begun = 1;
		}
		if ((r = load_fill(db, ld, cause)) < 0) {
			if (ld->begun)
				db_rollback(db, NULL);
			return DB_FAIL;
		}
		if (r == 0 && ld->k == 0) {
			rc = ld->begun ? db_commit(db, cause) : DB_OK;
			if (rc == DB_FAIL)
				db_rollback(db, NULL);
			return rc;
		}
		if (r == 0 && !ld->begun) {
			/*
			 * One statement, atomic by itself: outside a
			 * transaction it is retried as any statement is.
			 */
			rc = load_send(db, ld, cause);
			if (rc != DB_OK)
				load_caught(db, ld);
			if (rc == DB_FAIL && user && !db_in_txn(db))
				ld->undo = UNDO_GONE;
			return rc;
		}
		rc = load_batches(db, ld, user, cause);
		if (rc != DB_OK)
			load_caught(db, ld);
		if (rc != DB_FAIL)
			return rc;
		if (user) {
			load_undo(db, ld);
			return rc;
		}
		/* Asked before the rollback, which has its own outcome. */
		again = db_last_retryable(db);
		err = db_last_error(db);
		db_rollback(db, NULL);
		if (!again)
			return rc;
		if (ld->restart == NULL || ld->restart(ld->arg) != 0) {
			ld->unread = 1;
			return rc;
		}
		if (retry_wait(db, attempt, err, cause) != 0)
			return DB_FAIL;
		ld->k = ld->held = ld->ended = ld->sent_failed = 0;
		ld->done = 0;
	}
}

static void
load_free(struct load *ld)
{
	free(ld->rows);
	free(ld->lines);
	free(ld->undo_why);
}

struct bulk {
	long long	 n;
	long long	 i;
	const char	*prefix;
};

static int
bulk_next(void *arg, struct player *pl, unsigned long *line, char **cause)
{
	struct bulk	*b = arg;

	(void)cause;
	if (b->i == b->n)
		return 0;
	pl->namelen = snprintf(pl->name, sizeof pl->name, "%s_%lld",
	    b->prefix, b->i);
	pl->coins = 10000;
	pl->goods = 100;
	pl->name_null = pl->coins_null = pl->goods_null = 0;
	*line = (unsigned long)++b->i;
	return 1;
}

static int
bulk_restart(void *arg)
{
	struct bulk	*b = arg;

	b->i = 0;
	return 0;
}

/* The quickstart's bulk step: PREFIX_0 ... PREFIX_{N-1}, all or none. */
int
load_bulk(struct db *db, long long n, const char *prefix,
    unsigned int batch, progress_cb progress, void *arg, char **cause)
{
	struct bulk	b = { n, 0, prefix };
	struct load	ld;
	char		*why;
	int		rc;

	memset(&ld, 0, sizeof ld);
	ld.next = bulk_next;
	ld.restart = bulk_restart;
	ld.reread = 1;
	ld.arg = &b;
	ld.cap = batch;
	ld.progress = progress;
	ld.parg = arg;
	ld.total = (unsigned long long)n;
	ld.hint = ld.total;
	if ((rc = load_run(db, &ld, cause)) == DB_FAIL) {
		why = load_too_large(&ld, "the bulk", "add fewer players at "
		    "a time", *cause);
		if (why == NULL && ld.duplen >= 0)
			xasprintf(&why, "a player named '%s' already exists",
			    ld.dup);
		if (why != NULL) {
			free(*cause);
			*cause = why;
		}
		*cause = load_undone(&ld, "added", *cause);
	}
	load_free(&ld);
	return rc;
}

struct import {
	struct input	*in;
	struct csv	*c;
	const char	*path;
	int		 marker;
	int		 col[3];
	/* A regular file, which earlier_line may read again (dev, ino). */
	int		 regular;
	dev_t		 dev;
	ino_t		 ino;
};

static int
import_next(void *arg, struct player *pl, unsigned long *line, char **cause)
{
	struct import	*im = arg;
	int		 r;

	if ((r = csv_read(im->c, cause)) != 1)
		return r;
	*line = csv_line(im->c);
	return csv_player(im->c, im->col, pl, cause) == 0 ? 1 : -1;
}

/* A file is read again from its start; a pipe cannot be. */
static int
import_restart(void *arg)
{
	struct import	*im = arg;
	char		*cause;

	csv_close(im->c);
	im->c = NULL;
	if (input_rewind(im->in) != 0)
		return -1;
	im->c = csv_open(im->in, im->path, im->marker);
	if (csv_header(im->c, im->col, &cause) != 0) {
		free(cause);
		return -1;
	}
	return 0;
}

/* The names are equal as a case-blind, pad-space collation has them. */
static int
loosely_same(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t	i;

	while (alen > 0 && a[alen - 1] == ' ')
		alen--;
	while (blen > 0 && b[blen - 1] == ' ')
		blen--;
	if (alen != blen)
		return 0;
	for (i = 0; i < alen; i++) {
		if (a[i] != b[i] && ((a[i] | 0x20) != (b[i] | 0x20) ||
		    (a[i] | 0x20) < 'a' || (a[i] | 0x20) > 'z'))
			return 0;
	}
	return 1;
}

/* The first row of rows[from..to) with that name: exactly, or loosely. */
static unsigned int
find_row(const struct load *ld, unsigned int from, unsigned int to,
    int exact)
{
	const struct player	*pl;

	for (; from < to; from++) {
		pl = &ld->rows[from];
		if (exact ? pl->namelen == (size_t)ld->duplen &&
		    memcmp(pl->name, ld->dup, pl->namelen) == 0 :
		    loosely_same(pl->name, pl->namelen, ld->dup, ld->duplen))
			return from;
	}
	return to;
}

/*
 * The first line of the file before line before with that name (loosely:
 * the table's collation may compare so); 0 when there is none, or when
 * the input is no file to read again.
 */
static unsigned long
earlier_line(const struct import *im, const struct load *ld,
    unsigned long before)
{
	struct input	*in;
	struct csv	*c;
	struct stat	 sb;
	unsigned long	 found = 0;
	const char	*s;
	size_t		 len;
	char		*cause = NULL;
	int		 fd, col[3];

	/*
	 * Only a regular file is read again, and only if the path still
	 * names the file imported: opening a FIFO would wait for a writer
	 * that has gone (O_NONBLOCK only guards against a path replaced
	 * since).
	 */
	if (im->marker || !im->regular || (fd = open(im->path,
	    O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return 0;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    sb.st_dev != im->dev || sb.st_ino != im->ino) {
		close(fd);
		return 0;
	}
	in = input_fd(fd);
	c = csv_open(in, im->path, 0);
	if (csv_header(c, col, &cause) == 0) {
		while (csv_read(c, &cause) == 1 && csv_line(c) < before) {
			s = csv_nfields(c) > (unsigned int)col[0] ?
			    csv_field(c, col[0], &len) : "";
			if (loosely_same(s, strlen(s), ld->dup, ld->duplen)) {
				found = csv_line(c);
				break;
			}
		}
	}
	free(cause);
	csv_close(c);
	input_free(in);
	close(fd);
	return found;
}

static int
got_player(const struct player *pl, void *arg)
{
	*(struct player *)arg = *pl;
	return 0;
}

/*
 * A name the server refused as a duplicate (1062 names it), put on its
 * line: taken by a player already there, or on an earlier line of the
 * same input. Asked after the import was undone, so that the table shows
 * what was there before it. NULL: the name is not in the batch.
 */
static char *
import_dup(struct db *db, const struct load *ld, const struct import *im)
{
	struct param	 p = { P_STR, 0, ld->dup, (size_t)ld->duplen };
	struct player	 pl;
	unsigned int	 f1, f2, c;
	unsigned long	 line, other = 0;
	char		*msg, *why = NULL;

	if ((f1 = find_row(ld, 0, ld->k, 1)) == ld->k)
		return NULL;
	f2 = find_row(ld, f1 + 1, ld->k, 0);
	line = ld->lines[f1];
	pl.id = -1;
	if (db_rows(db, ST_GET, &p, got_player, &pl, &why) != DB_OK) {
		free(why);
		return NULL;
	}
	if (pl.id != -1) {
		if (pl.namelen == (size_t)ld->duplen &&
		    memcmp(pl.name, ld->dup, pl.namelen) == 0)
			xasprintf(&msg, "%s:%lu: a player named '%s' already "
			    "exists", im->path, line, ld->dup);
		else
			xasprintf(&msg, "%s:%lu: the name '%s' is taken: a "
			    "player named '%s' already exists (the table's "
			    "collation counts them as one name)", im->path,
			    line, ld->dup, pl.name);
		return msg;
	}
	if ((c = find_row(ld, 0, f1, 0)) < f1)
		other = ld->lines[c];
	else if ((other = earlier_line(im, ld, ld->lines[0])) == 0 &&
	    f2 < ld->k) {
		other = line;
		line = ld->lines[f2];
	}
	if (other != 0)
		xasprintf(&msg, "%s:%lu: the name '%s' is also on line %lu",
		    im->path, line, ld->dup, other);
	else
		xasprintf(&msg, "%s:%lu: the name '%s' is on an earlier line "
		    "too%s", im->path, line, ld->dup, im->regular ? "" :
		    " (which one cannot be told: the input cannot be read "
		    "twice)");
	return msg;
}

/*
 * A duplicate found only at COMMIT: TiDB's optimistic transactions
 * (tidb_txn_mode = 'optimistic') check unique keys then, not at each
 * INSERT (docs: optimistic-transaction.md, constraints.md). The batch is
 * long gone; the file is read again for the line.
 */
static char *
import_dup_at_commit(const struct load *ld, const struct import *im)
{
	unsigned long	 line;
	char		*msg;

	if ((line = earlier_line(im, ld, (unsigned long)-1)) != 0)
		xasprintf(&msg, "%s:%lu: the name '%s' is a duplicate: the "
		    "server found it only at commit (an optimistic "
		    "transaction), either on this line or in the table",
		    im->path, line, ld->dup);
	else
		xasprintf(&msg, "%s: the name '%s' is a duplicate, which the "
		    "server found only at commit (an optimistic transaction); "
		    "its line is not known, as the input cannot be read again",
		    im->path, ld->dup);
	return msg;
}

/* Why the import failed, where, and that nothing of it was kept. */
static void
import_failed(struct db *db, struct load *ld, const struct import *im,
    char **cause)
{
	char	*why = *cause, *msg = NULL;

	if ((msg = load_too_large(ld, "the import", "split the file and "
	    "import the parts one by one", why)) != NULL) {
		free(why);
		xasprintf(&why, "%s: %s", im->path, msg);
		free(msg);
	} else if (ld->sent_failed && ld->duplen >= 0 &&
	    (msg = import_dup(db, ld, im)) != NULL) {
		free(why);
		why = msg;
	} else if (!ld->sent_failed && ld->duplen > 0) {
		free(why);
		why = import_dup_at_commit(ld, im);
	} else if (ld->sent_failed) {
		xasprintf(&msg, "%s:%lu-%lu: %s%s", im->path, ld->lines[0],
		    ld->lines[ld->k - 1], why, ld->unread ? " (not tried "
		    "again: its input cannot be read twice)" : "");
		free(why);
		why = msg;
	}
	*cause = load_undone(ld, "imported", why);
}

static int
typed_cancelled(void *arg)
{
	return db_interrupted(arg);
}

static int
open_csv(const char *path, int *fd, char **cause)
{
	struct stat	sb;

	/* A FIFO waits for its writer; Ctrl-C ends the wait. */
	if ((*fd = open_interruptible(path, O_RDONLY | O_CLOEXEC, 0)) == -1) {
		if (errno == EINTR)
			xasprintf(cause, "cancelled while waiting for a writer "
			    "to %s; nothing was imported", path);
		else
			xasprintf(cause, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(*fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		xasprintf(cause, "%s: %s", path, strerror(EISDIR));
		close(*fd);
		return -1;
	}
	return 0;
}

/*
 * import: the CSV is read once, as it is written in multi-row batches
 * inside one transaction, so that a failure anywhere leaves the table as
 * it was. in is standard input as the line source holds it (path then
 * names it), where the data ends at a line "\."; NULL: the file path.
 */
int
load_import(struct db *db, const char *path, struct input *in,
    unsigned int batch, progress_cb progress, void *arg,
    unsigned long long *rows, char **cause)
{
	struct import	 im = { in, NULL, path, in != NULL, { 0 }, 0, 0, 0 };
	struct load	 ld;
	struct stat	 sb;
	int		 fd = -1, rc = DB_FAIL;

	memset(&ld, 0, sizeof ld);
	/* Rows typed at a terminal: Ctrl-C stops the wait for them. */
	if (in != NULL && in == input_stdin() && isatty(STDIN_FILENO)) {
		in->cancelled = typed_cancelled;
		in->cancel_arg = db;
	}
	if (in == NULL) {
		if (open_csv(path, &fd, cause) != 0)
			return DB_FAIL;
		im.in = input_fd(fd);
	}
	im.c = csv_open(im.in, path, im.marker);
	if (csv_header(im.c, im.col, cause) == 0) {
		ld.next = import_next;
		ld.restart = in == NULL ? import_restart : NULL;
		/* A pipe or a FIFO waits for its rows, and comes once. */
		ld.reread = in == NULL && fstat(fd, &sb) == 0 &&
		    S_ISREG(sb.st_mode);
		/*
		 * A quickstart row is 20 to 55 bytes: a file of more than 32
		 * bytes a batch row is expected to be many batches (a wrong
		 * guess costs one round trip, a right one saves one).
		 */
		if (ld.reread)
			ld.hint = (unsigned long long)sb.st_size / 32;
		im.regular = ld.reread;
		if (im.regular) {
			im.dev = sb.st_dev;
			im.ino = sb.st_ino;
		}
		ld.arg = &im;
		ld.cap = batch;
		ld.progress = progress;
		ld.parg = arg;
		if ((rc = load_run(db, &ld, cause)) == DB_FAIL)
			import_failed(db, &ld, &im, cause);
	}
	if (im.c != NULL) {
		if (rc != DB_OK)
			csv_skip(im.c);
		csv_close(im.c);
	}
	if (in == NULL) {
		input_free(im.in);
		close(fd);
	} else
		in->cancelled = NULL;
	*rows = ld.done;
	load_free(&ld);
	return rc;
}

struct array {
	const struct player	*rows;
	unsigned int		 n;
	unsigned int		 i;
};

static int
array_next(void *arg, struct player *pl, unsigned long *line, char **cause)
{
	struct array	*a = arg;

	(void)cause;
	if (a->i == a->n)
		return 0;
	*pl = a->rows[a->i++];
	*line = a->i;
	return 1;
}

static int
array_restart(void *arg)
{
	((struct array *)arg)->i = 0;
	return 0;
}

/*
 * Many adds, applied whole or not at all, so a DB_FAIL means none of the
 * rows was added: one multi-row INSERT, or, when they do not fit in one
 * packet, several in a transaction.
 */
int
load_add_many(struct db *db, struct player *rows, unsigned int n,
    char **cause)
{
	struct array	a = { rows, n, 0 };
	struct load	ld;
	int		rc;

	memset(&ld, 0, sizeof ld);
	ld.next = array_next;
	ld.restart = array_restart;
	ld.reread = 1;
	ld.arg = &a;
	ld.cap = n;
	rc = load_run(db, &ld, cause);
	load_free(&ld);
	return rc;
}
