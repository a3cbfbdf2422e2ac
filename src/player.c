/*
 * Player operations in terms of db.c: what each command means for the
 * table. No terminal and no output formats here, so the same operations
 * serve the shell, scripts and tests.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tidbplay.h"

#define P_I(v)		{ P_INT, (v), NULL, 0 }
#define P_S(v)		{ P_STR, 0, (v), strlen(v) }

static int
got_one(const struct player *pl, void *arg)
{
	struct player	*out = arg;

	*out = *pl;
	out->id = pl->id;
	return 0;
}

int
player_add(struct db *db, const char *name, long long coins, long long goods,
    unsigned long long *id, char **cause)
{
	struct param	p[3] = { P_S(name), P_I(coins), P_I(goods) };

	return db_exec(db, ST_INSERT, p, NULL, id, cause);
}

/* A missing player is a failure: "no player named ...". */
int
player_get(struct db *db, const char *name, struct player *pl, char **cause)
{
	struct param	p[1] = { P_S(name) };
	int		rc;

	pl->id = -1;
	if ((rc = db_rows(db, ST_GET, p, got_one, pl, cause)) != DB_OK)
		return rc;
	if (pl->id == -1) {
		xasprintf(cause, "no player named '%s'", name);
		return DB_FAIL;
	}
	return DB_OK;
}

/*
 * Absolute values are plain assignments; a relative one is applied in SQL
 * (coins = coins + ?) so that concurrent changes are not lost, and refused
 * when the result would leave 0..INT_MAX.
 */
int
player_set(struct db *db, int goods, const char *name, long long v,
    int relative, char **cause)
{
	struct param		 abs[2] = { P_I(v), P_S(name) };
	struct param		 rel[3] = { P_I(v), P_S(name), P_I(v) };
	const char		*col = goods ? "goods" : "coins";
	unsigned long long	 n = 0;
	struct player		 pl;
	long long		 cur, next;
	int			 rc;

	if (relative)
		rc = db_exec(db, goods ? ST_ADD_GOODS : ST_ADD_COINS, rel, &n,
		    NULL, cause);
	else
		rc = db_exec(db, goods ? ST_SET_GOODS : ST_SET_COINS, abs, &n,
		    NULL, cause);
	if (rc != DB_OK || n > 0)
		return rc;
	if ((rc = player_get(db, name, &pl, cause)) != DB_OK)
		return rc;
	cur = goods ? pl.goods : pl.coins;
	if ((goods ? pl.goods_null : pl.coins_null)) {
		xasprintf(cause, "%s of '%s' is NULL; set an absolute value "
		    "first", col, name);
		return DB_FAIL;
	}
	next = cur + v;
	xasprintf(cause, "%s of '%s' would be %lld, %s; nothing changed", col,
	    name, next, next < 0 ? "below 0" : "above 2147483647");
	return DB_FAIL;
}

/* A write to one named player: no row matched means no such player. */
static int
exec_named(struct db *db, enum stmt_id id, const struct param *p,
    const char *name, char **cause)
{
	unsigned long long	n = 0;
	int			rc;

	if ((rc = db_exec(db, id, p, &n, NULL, cause)) != DB_OK)
		return rc;
	if (n == 0) {
		xasprintf(cause, "no player named '%s'", name);
		return DB_FAIL;
	}
	return DB_OK;
}

int
player_delete(struct db *db, const char *name, char **cause)
{
	struct param	p[1] = { P_S(name) };

	return exec_named(db, ST_DELETE, p, name, cause);
}

int
player_rename(struct db *db, const char *name, const char *to, char **cause)
{
	struct param	p[2] = { P_S(to), P_S(name) };

	return exec_named(db, ST_RENAME, p, name, cause);
}

int
player_count(struct db *db, long long *n, char **cause)
{
	struct player	pl;
	int		rc;

	pl.id = 0;
	rc = db_rows(db, ST_COUNT, NULL, got_one, &pl, cause);
	*n = pl.id;
	return rc;
}

/* limit < 0: every player. */
int
player_list(struct db *db, long long limit, long long offset, row_cb cb,
    void *arg, char **cause)
{
	struct param	p[2] = { P_I(limit), P_I(offset) };

	if (limit < 0)
		return db_rows(db, ST_LIST_ALL, NULL, cb, arg, cause);
	return db_rows(db, ST_LIST, p, cb, arg, cause);
}

/* A LIKE pattern matching names that start with prefix, '!' escaping. */
static char *
like_prefix(const char *prefix)
{
	char	*pat, *w;

	pat = w = xmalloc(strlen(prefix) * 2 + 2);
	for (; *prefix != '\0'; prefix++) {
		if (*prefix == '%' || *prefix == '_' || *prefix == '!')
			*w++ = '!';
		*w++ = *prefix;
	}
	*w++ = '%';
	*w = '\0';
	return pat;
}

int
player_find(struct db *db, const char *prefix, row_cb cb, void *arg,
    char **cause)
{
	char		*pat = like_prefix(prefix);
	struct param	 p[1] = { P_S(pat) };
	int		 rc;

	rc = db_rows(db, ST_FIND, p, cb, arg, cause);
	free(pat);
	return rc;
}

int
player_top(struct db *db, int goods, long long n, row_cb cb, void *arg,
    char **cause)
{
	struct param	p[1] = { P_I(n) };

	return db_rows(db, goods ? ST_TOP_GOODS : ST_TOP_COINS, p, cb, arg,
	    cause);
}

int
player_names(struct db *db, const char *prefix, unsigned int limit,
    row_cb cb, void *arg, char **cause)
{
	char		*pat = like_prefix(prefix);
	struct param	 p[2] = { P_S(pat), P_I(limit) };
	int		 rc;

	rc = db_rows(db, ST_NAMES, p, cb, arg, cause);
	free(pat);
	return rc;
}

/*
 * Run fn in a transaction of our own, run again as a whole on the errors a
 * distributed database asks to retry. Inside the user's transaction it runs
 * once, in theirs.
 */
static int
in_transaction(struct db *db, int (*fn)(struct db *, void *, char **),
    void *arg, char **cause)
{
	unsigned int	 attempt;
	int		 rc, again;
	char		*why;

	if (db_in_txn(db))
		return fn(db, arg, cause);
	for (attempt = 0;; attempt++) {
		if ((rc = db_begin(db, 0, cause)) != DB_OK)
			return rc;
		rc = fn(db, arg, cause);
		if (rc == DB_OK)
			rc = db_commit(db, cause);
		/* Asked before the rollback, which has its own outcome. */
		again = rc == DB_FAIL && db_last_retryable(db);
		if (rc == DB_FAIL)
			db_rollback(db, NULL);
		if (!again)
			return rc;
		if (attempt + 1 >= db_retries(db)) {
			if (attempt > 0) {
				why = *cause;
				xasprintf(cause, "%s (gave up after %u "
				    "attempts)", why, attempt + 1);
				free(why);
			}
			return rc;
		}
		free(*cause);
		*cause = NULL;
		if (db_backoff(db, attempt, cause) != 0)
			return DB_FAIL;
	}
}

struct trade {
	const char	*buyer;
	const char	*seller;
	long long	 amount;
	long long	 price;
};

/* The rows a trade's look-up locked: two at most, names being unique. */
struct locked {
	struct player	 row[2];
	unsigned int	 n;
};

static int
got_locked(const struct player *pl, void *arg)
{
	struct locked	*l = arg;

	if (l->n < 2)
		l->row[l->n] = *pl;
	l->n++;
	return 0;
}

/* Lock and read the rows named a and b, in one statement. */
static int
lock_names(struct db *db, const char *a, const char *b, struct locked *l,
    char **cause)
{
	struct param	p[2] = { P_S(a), P_S(b) };

	l->n = 0;
	return db_rows(db, ST_LOCK_PAIR, p, got_locked, l, cause);
}

/* The id of the locked row holding name byte for byte, or -1. */
static long long
exact_id(const struct locked *l, const char *name)
{
	unsigned int	i;

	for (i = 0; i < l->n && i < 2; i++)
		if (l->row[i].namelen == strlen(name) &&
		    memcmp(l->row[i].name, name, l->row[i].namelen) == 0)
			return l->row[i].id;
	return -1;
}

/* The id of the row the server takes for name, or -1: one round trip. */
static int
server_id(struct db *db, const char *name, long long *id, char **cause)
{
	struct locked	one;
	int		rc;

	if ((rc = lock_names(db, name, name, &one, cause)) != DB_OK)
		return rc;
	*id = one.n > 0 ? one.row[0].id : -1;
	return DB_OK;
}

static struct player *
row_of(struct locked *l, long long id)
{
	unsigned int	i;

	for (i = 0; i < l->n && i < 2; i++)
		if (l->row[i].id == id)
			return &l->row[i];
	return NULL;
}

/*
 * Which locked row is the buyer's and which the seller's. The server
 * matched the names by its collation (on utf8mb4_general_ci 'ALICE' is
 * 'Alice', and 'Alice' and 'alice' are one player), so a name that no row
 * holds byte for byte is asked about alone: one more round trip, only for
 * a name not written as stored, or missing.
 */
static int
pick(struct db *db, const struct trade *t, struct locked *l,
    struct player **b, struct player **s, char **cause)
{
	long long	bid, sid;
	int		rc;

	if (l->n > 2) {
		xasprintf(cause, "'%s' and '%s' match %u players", t->buyer,
		    t->seller, l->n);
		return DB_FAIL;
	}
	bid = exact_id(l, t->buyer);
	sid = exact_id(l, t->seller);
	if (l->n == 2 && bid == -1 && sid != -1)
		bid = l->row[l->row[0].id == sid].id;
	if (bid == -1 && l->n > 0 &&
	    (rc = server_id(db, t->buyer, &bid, cause)) != DB_OK)
		return rc;
	if (bid == -1) {
		xasprintf(cause, "no player named '%s'", t->buyer);
		return DB_FAIL;
	}
	if (l->n == 2 && sid == -1)
		sid = l->row[l->row[0].id == bid].id;
	if (sid == -1 && (rc = server_id(db, t->seller, &sid, cause)) != DB_OK)
		return rc;
	if (sid == -1) {
		xasprintf(cause, "no player named '%s'", t->seller);
		return DB_FAIL;
	}
	if (bid == sid) {
		xasprintf(cause, "buyer and seller are the same player");
		return DB_FAIL;
	}
	if ((*b = row_of(l, bid)) == NULL || (*s = row_of(l, sid)) == NULL) {
		xasprintf(cause, "'%s' or '%s' was added during the trade",
		    t->buyer, t->seller);
		return DB_FAIL;
	}
	return DB_OK;
}

static int
is_null(const char *who, const char *col, const char *name, char **cause)
{
	xasprintf(cause, "%s %s of '%s' is NULL; set an absolute value first",
	    who, col, name);
	return DB_FAIL;
}

/* The quickstart's checks, in its order; then the limits of INT. */
static int
trade_check(const struct trade *t, const struct player *b,
    const struct player *s, char **cause)
{
	if (b->coins_null)
		return is_null("buyer", "coins", t->buyer, cause);
	if (b->coins < t->price) {
		xasprintf(cause, "buyer coins not enough");
		return DB_FAIL;
	}
	if (s->goods_null)
		return is_null("seller", "goods", t->seller, cause);
	if (s->goods < t->amount) {
		xasprintf(cause, "seller goods not enough");
		return DB_FAIL;
	}
	if (b->goods_null)
		return is_null("buyer", "goods", t->buyer, cause);
	if (b->goods > INT_LIMIT - t->amount) {
		xasprintf(cause, "buyer goods would pass 2147483647");
		return DB_FAIL;
	}
	if (s->coins_null)
		return is_null("seller", "coins", t->seller, cause);
	if (s->coins > INT_LIMIT - t->price) {
		xasprintf(cause, "seller coins would pass 2147483647");
		return DB_FAIL;
	}
	return DB_OK;
}

/* Both sides in one UPDATE of the two locked rows. */
static int
trade_apply(struct db *db, const struct trade *t, long long bid,
    long long sid, char **cause)
{
	struct param	p[8] = { P_I(bid), P_I(t->price), P_I(t->price),
			    P_I(bid), P_I(t->amount), P_I(t->amount), P_I(bid),
			    P_I(sid) };

	return db_exec(db, ST_TRADE, p, NULL, NULL, cause);
}

/*
 * BEGIN (in_transaction), one SELECT ... FOR UPDATE of both rows, the
 * checks, one UPDATE, COMMIT: four round trips. Two trades of the same
 * pair, either way round, lock the same two rows with the same statement,
 * so in the same order: one waits for the other, and neither deadlocks.
 */
static int
trade_once(struct db *db, void *arg, char **cause)
{
	struct trade	*t = arg;
	struct locked	 l;
	struct player	*b, *s;
	int		 rc;

	if ((rc = lock_names(db, t->buyer, t->seller, &l, cause)) != DB_OK ||
	    (rc = pick(db, t, &l, &b, &s, cause)) != DB_OK ||
	    (rc = trade_check(t, b, s, cause)) != DB_OK)
		return rc;
	return trade_apply(db, t, b->id, s->id, cause);
}

/* The quickstart's trade: BUYER pays PRICE coins for AMOUNT goods. */
int
player_trade(struct db *db, const char *buyer, const char *seller,
    long long amount, long long price, char **cause)
{
	struct trade	t = { buyer, seller, amount, price };

	return in_transaction(db, trade_once, &t, cause);
}

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

/*
 * Many adds as one multi-row INSERT: applied whole or not at all, so a
 * DB_FAIL means none of the rows was added.
 */
int
player_add_many(struct db *db, struct player *rows, unsigned int n,
    char **cause)
{
	return db_insert_many(db, rows, n, cause);
}

struct added {
	struct player	*rows;
	unsigned int	 n;
};

static int
found_id(const struct player *pl, void *arg)
{
	struct added	*a = arg;
	unsigned int	 i;

	for (i = 0; i < a->n; i++) {
		if (a->rows[i].id == -1 && a->rows[i].namelen == pl->namelen &&
		    memcmp(a->rows[i].name, pl->name, pl->namelen) == 0) {
			a->rows[i].id = pl->id;
			break;
		}
	}
	return 0;
}

/*
 * The ids of rows just added, which need not be consecutive, in one round
 * trip; a row that is gone already keeps the id -1.
 */
int
player_ids(struct db *db, struct player *rows, unsigned int n, char **cause)
{
	struct added	 a = { rows, n };
	unsigned int	 i;

	for (i = 0; i < n; i++)
		rows[i].id = -1;
	return db_lookup_names(db, rows, n, found_id, &a, cause);
}

/* The user's transaction. */
int
player_begin(struct db *db, char **cause)
{
	return db_begin(db, 1, cause);
}

int
player_commit(struct db *db, char **cause)
{
	return db_commit(db, cause);
}

int
player_rollback(struct db *db, char **cause)
{
	return db_rollback(db, cause);
}

enum txn_state
player_txn(const struct db *db)
{
	return db_txn(db);
}

void
player_status(struct db *db, struct db_info *info)
{
	db_info(db, info);
}
