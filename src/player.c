/*
 * Player operations in terms of db.c: what each command means for the
 * table. No terminal and no output formats here, so the same operations
 * serve the shell, scripts and tests.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
	unsigned int	 attempt, err;
	int		 rc, again;
	char		*why;

	if (db_in_txn(db))
		return fn(db, arg, cause);
	for (attempt = 0;; attempt++) {
		if ((rc = db_begin_ours(db, cause)) != DB_OK)
			return rc;
		rc = fn(db, arg, cause);
		if (rc == DB_OK)
			rc = db_commit(db, cause);
		/* Asked before the rollback, which has its own outcome. */
		again = rc == DB_FAIL && db_last_retryable(db);
		err = db_last_error(db);
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
		if (db_backoff(db, attempt, err, cause) != 0)
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
		/* As the command says it for two equal names. */
		xasprintf(cause, "trade: buyer and seller are the same player "
		    "('%s' and '%s' are one name to the table's collation)",
		    t->buyer, t->seller);
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
 * trip (more when the names do not fit one packet); a row that is gone
 * already keeps the id -1.
 */
int
player_ids(struct db *db, struct player *rows, unsigned int n, char **cause)
{
	struct added	 a = { rows, n };
	unsigned int	 i, j;
	size_t		 bytes, b;
	int		 fits = 1;

	for (i = 0; i < n; i++)
		rows[i].id = -1;
	/* As many names at once as fit one packet (an insert's bytes, more). */
	for (i = 0; i < n; i = j) {
		for (bytes = 0, j = i; j < n; j++) {
			b = db_row_bytes(&rows[j]);
			if (j > i && (fits = db_batch_fits(db, bytes + b,
			    cause)) <= 0)
				break;
			bytes += b;
		}
		if (fits < 0 || db_lookup_names(db, rows + i, j - i, found_id,
		    &a, cause) != DB_OK)
			return DB_FAIL;
	}
	return DB_OK;
}
