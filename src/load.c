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
retry_wait(struct db *db, unsigned int attempt, char **cause)
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
	return db_backoff(db, attempt, cause) != 0 ? -1 : 0;
}

/* What a failed load left behind. */
enum undo {
	UNDO_ALL,	/* nothing: its own transaction, or one statement */
	UNDO_LOAD,	/* the user's transaction, as it was before it */
	UNDO_TXN,	/* the user's transaction, rolled back whole by us */
	UNDO_GONE	/* the user's transaction, ended (the cause says so) */
};

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
	void		*arg;
	unsigned int	 cap;
	progress_cb	 progress;
	void		*parg;
	unsigned long long total;	/* 0: not known in advance */

	struct player	*rows;		/* the batch, rows[0..k) */
	unsigned long	*lines;		/* where each row comes from */
	unsigned int	 k;
	int		 held;		/* rows[k] was read, for the next */
	int		 ended;		/* next() has said the end */
	int		 sent_failed;	/* the server refused the batch */
	int		 unread;	/* a retry needed the rows again */
	int		 saved;		/* the savepoint is set */
	enum undo	 undo;		/* what a failure left */
	char		*undo_why;	/* why a savepoint could not be used */
	unsigned long long done;
};

/*
 * The next batch into rows[0..k): 0 when it is the last one, 1 when more
 * follow, -1 when next() failed. One row beyond a full batch is read to
 * know which.
 */
static int
load_fill(struct load *ld, char **cause)
{
	int	r;

	ld->k = 0;
	if (ld->held) {
		ld->rows[0] = ld->rows[ld->cap];
		ld->lines[0] = ld->lines[ld->cap];
		ld->k = 1;
		ld->held = 0;
	}
	while (!ld->ended) {
		r = ld->next(ld->arg, &ld->rows[ld->k], &ld->lines[ld->k],
		    cause);
		if (r < 0)
			return -1;
		if (r == 0) {
			ld->ended = 1;
			break;
		}
		if (ld->k == ld->cap) {
			ld->held = 1;
			return 1;
		}
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

/* Every row in one statement: retried as it is, outside a transaction. */
static int
load_one(struct db *db, struct load *ld, int user, char **cause)
{
	unsigned int	attempt;
	int		rc;

	for (attempt = 0;; attempt++) {
		rc = load_send(db, ld, cause);
		if (rc != DB_FAIL || user || !db_last_retryable(db))
			return rc;
		if (retry_wait(db, attempt, cause) != 0)
			return DB_FAIL;
		ld->sent_failed = 0;
	}
}

/*
 * Batch after batch, the first one filled, in one transaction: ours, or
 * the user's after a savepoint, so that a failure can take back the load
 * and nothing else of theirs.
 */
static int
load_batches(struct db *db, struct load *ld, int user, char **cause)
{
	int	rc, more = 1;

	if (user)
		rc = db_exec(db, ST_SAVEPOINT, NULL, NULL, NULL, cause);
	else
		rc = db_begin(db, 0, cause);
	if (rc != DB_OK)
		return rc;
	ld->saved = user;
	for (;;) {
		if ((rc = load_send(db, ld, cause)) != DB_OK || !more)
			break;
		if ((more = load_fill(ld, cause)) < 0) {
			rc = DB_FAIL;
			break;
		}
		if (ld->k == 0)
			break;
	}
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
		xasprintf(&msg, "%s; nothing was %s: the transaction is still "
		    "open, as it was before", why, what);
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

static int
load_run(struct db *db, struct load *ld, char **cause)
{
	unsigned int	attempt;
	int		user = db_in_txn(db), r, rc, again;

	ld->rows = xcalloc(ld->cap + 1, sizeof *ld->rows);
	ld->lines = xcalloc(ld->cap + 1, sizeof *ld->lines);
	if (user)
		ld->undo = UNDO_LOAD;
	for (attempt = 0;; attempt++) {
		if ((r = load_fill(ld, cause)) < 0)
			return DB_FAIL;
		if (r == 0 && ld->k == 0)
			return DB_OK;
		if (r == 0) {
			/* One statement: the server undoes it by itself. */
			rc = load_one(db, ld, user, cause);
			if (rc == DB_FAIL && user && !db_in_txn(db))
				ld->undo = UNDO_GONE;
			return rc;
		}
		rc = load_batches(db, ld, user, cause);
		if (rc != DB_FAIL)
			return rc;
		if (user) {
			load_undo(db, ld);
			return rc;
		}
		/* Asked before the rollback, which has its own outcome. */
		again = db_last_retryable(db);
		db_rollback(db, NULL);
		if (!again)
			return rc;
		if (ld->restart == NULL || ld->restart(ld->arg) != 0) {
			ld->unread = 1;
			return rc;
		}
		if (retry_wait(db, attempt, cause) != 0)
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
player_bulk(struct db *db, long long n, const char *prefix,
    unsigned int batch, progress_cb progress, void *arg, char **cause)
{
	struct bulk	b = { n, 0, prefix };
	struct load	ld;
	int		rc;

	memset(&ld, 0, sizeof ld);
	ld.next = bulk_next;
	ld.restart = bulk_restart;
	ld.arg = &b;
	ld.cap = batch;
	ld.progress = progress;
	ld.parg = arg;
	ld.total = (unsigned long long)n;
	if ((rc = load_run(db, &ld, cause)) == DB_FAIL)
		*cause = load_undone(&ld, "added", *cause);
	load_free(&ld);
	return rc;
}

struct import {
	struct input	*in;
	struct csv	*c;
	const char	*path;
	int		 marker;
	int		 col[3];
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

/* Why the import failed, where, and that nothing of it was kept. */
static void
import_failed(struct load *ld, const char *path, char **cause)
{
	char	*why = *cause;

	if (ld->sent_failed) {
		xasprintf(cause, "%s:%lu-%lu: %s%s", path, ld->lines[0],
		    ld->lines[ld->k - 1], why, ld->unread ? " (not tried "
		    "again: its input cannot be read twice)" : "");
		free(why);
		why = *cause;
	}
	*cause = load_undone(ld, "imported", why);
}

static int
open_csv(const char *path, int *fd, char **cause)
{
	struct stat	sb;

	if ((*fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
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
player_import(struct db *db, const char *path, struct input *in,
    unsigned int batch, progress_cb progress, void *arg,
    unsigned long long *rows, char **cause)
{
	struct import	 im = { in, NULL, path, in != NULL, { 0 } };
	struct load	 ld;
	int		 fd = -1, rc = DB_FAIL;

	memset(&ld, 0, sizeof ld);
	if (in == NULL) {
		if (open_csv(path, &fd, cause) != 0)
			return DB_FAIL;
		im.in = input_fd(fd);
	}
	im.c = csv_open(im.in, path, im.marker);
	if (csv_header(im.c, im.col, cause) == 0) {
		ld.next = import_next;
		ld.restart = in == NULL ? import_restart : NULL;
		ld.arg = &im;
		ld.cap = batch;
		ld.progress = progress;
		ld.parg = arg;
		if ((rc = load_run(db, &ld, cause)) == DB_FAIL)
			import_failed(&ld, path, cause);
	}
	if (im.c != NULL) {
		if (rc != DB_OK)
			csv_skip(im.c);
		csv_close(im.c);
	}
	if (in == NULL) {
		input_free(im.in);
		close(fd);
	}
	*rows = ld.done;
	load_free(&ld);
	return rc;
}
