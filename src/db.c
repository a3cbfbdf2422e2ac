/*
 * The connection to the server: the host list and the TLS policy, the
 * prepared statements, and one run path for every statement (one fetch
 * loop, one reader of errors, one reconnect, one rule for a write whose
 * fate is unknown), with the user's transaction as the server reports it.
 * The only file that calls mysql_*; it prints nothing itself.
 */
#include "config.h"

#include "db-private.h"

const struct stmt_def stmt_defs[NSTATEMENTS] = {
	[ST_INSERT] = { "INSERT INTO `%s` (name, coins, goods) "
	    "VALUES (?, ?, ?)", 3, RS_NONE, 0, 1 },
	[ST_INSERT_MANY] = { NULL, 3, RS_NONE, 0, 1 },
	[ST_GET] = { SELECT_PLAYERS
	    "WHERE name = ?", 1, RS_PLAYER, 1, 0 },
	[ST_GET_MANY] = { NULL, 1, RS_PLAYER, 1, 0 },
	[ST_GET_ID] = { SELECT_PLAYERS
	    "WHERE id = ?", 1, RS_PLAYER, 1, 0 },
	/* A trade's two rows, locked in one deterministic order. */
	[ST_LOCK_PAIR] = { SELECT_PLAYERS
	    "WHERE name IN (?, ?) ORDER BY id FOR UPDATE", 2, RS_PLAYER, 0, 0 },
	[ST_SET_COINS] = { "UPDATE `%s` SET coins = ? WHERE name = ?",
	    2, RS_NONE, 1, 1 },
	[ST_SET_GOODS] = { "UPDATE `%s` SET goods = ? WHERE name = ?",
	    2, RS_NONE, 1, 1 },
	[ST_ADD_COINS] = { "UPDATE `%s` SET coins = coins + ? "
	    "WHERE name = ? AND coins + ? BETWEEN 0 AND 2147483647",
	    3, RS_NONE, 0, 1 },
	[ST_ADD_GOODS] = { "UPDATE `%s` SET goods = goods + ? "
	    "WHERE name = ? AND goods + ? BETWEEN 0 AND 2147483647",
	    3, RS_NONE, 0, 1 },
	[ST_DELETE] = { "DELETE FROM `%s` WHERE name = ?", 1, RS_NONE, 0, 1 },
	[ST_COUNT] = { "SELECT COUNT(*) FROM `%s`", 0, RS_COUNT, 1, 0 },
	[ST_LIST] = { SELECT_PLAYERS
	    "ORDER BY id LIMIT ? OFFSET ?", 2, RS_PLAYER, 1, 0 },
	[ST_LIST_ALL] = { SELECT_PLAYERS
	    "ORDER BY id", 0, RS_PLAYER, 1, 0 },
	[ST_FIND] = { SELECT_PLAYERS
	    "WHERE name LIKE ? ESCAPE '!' ORDER BY name, id", 1, RS_PLAYER,
	    1, 0 },
	[ST_TOP_COINS] = { SELECT_PLAYERS
	    "ORDER BY coins DESC, id LIMIT ?", 1, RS_PLAYER, 1, 0 },
	[ST_TOP_GOODS] = { SELECT_PLAYERS
	    "ORDER BY goods DESC, id LIMIT ?", 1, RS_PLAYER, 1, 0 },
	[ST_RENAME] = { "UPDATE `%s` SET name = ? WHERE name = ?",
	    2, RS_NONE, 0, 1 },
	[ST_NAMES] = { "SELECT name FROM `%s` WHERE name LIKE ? ESCAPE '!' "
	    "ORDER BY name LIMIT ?", 2, RS_NAME, 1, 0 },
	/*
	 * Both sides of a trade in one single-table UPDATE (buyer id, price,
	 * price, buyer id, amount, amount, buyer id, seller id): no
	 * multi-table UPDATE, where TiDB has given wrong results.
	 */
	[ST_TRADE] = { "UPDATE `%s` SET "
	    "coins = CASE id WHEN ? THEN coins - ? ELSE coins + ? END, "
	    "goods = CASE id WHEN ? THEN goods + ? ELSE goods - ? END "
	    "WHERE id IN (?, ?)", 8, RS_NONE, 0, 1 },
	[ST_CONNECTION_ID] = { "SELECT CONNECTION_ID()", 0, RS_COUNT, 1, 0, 1 },
	/* Names match as this compares them; a table not made yet gets the
	   database's default. */
	[ST_COLLATION] = { "SELECT COALESCE((SELECT table_collation FROM "
	    "information_schema.tables WHERE table_schema = DATABASE() AND "
	    "table_name = ?), (SELECT default_collation_name FROM "
	    "information_schema.schemata WHERE schema_name = DATABASE()))",
	    1, RS_NAME, 1, 0 },
	/*
	 * Every command names a player by name: the table must keep one
	 * name to one player. Its columns and unique keys in one round
	 * trip, at connect (check_shape); the table is an identifier of
	 * letters, digits and _, so it is safe in the literal. TiDB has
	 * the same information_schema columns.
	 */
	[ST_SHAPE] = { "SELECT 't', table_type, '', 0 FROM "
	    "information_schema.tables "
	    "WHERE table_schema = DATABASE() AND table_name = '%s' "
	    "UNION ALL SELECT 'c', LOWER(column_name), LOWER(data_type), "
	    "IFNULL(character_maximum_length, 0) FROM "
	    "information_schema.columns WHERE table_schema = DATABASE() AND "
	    "table_name = '%s' UNION ALL SELECT 'u', index_name, "
	    "GROUP_CONCAT(LOWER(column_name), IF(sub_part IS NULL, '', "
	    "'(prefix)') ORDER BY seq_in_index), 0 FROM "
	    "information_schema.statistics WHERE table_schema = DATABASE() "
	    "AND table_name = '%s' AND non_unique = 0 GROUP BY index_name "
	    "UNION ALL SELECT 'p', @@max_allowed_packet, '', 0",
	    0, RS_FIELDS, 1, 0, 1 },
	[ST_BEGIN] = { "START TRANSACTION", 0, RS_NONE, 1, 0, 1 },
	[ST_COMMIT] = { "COMMIT", 0, RS_NONE, 0, 0, 1 },
	[ST_ROLLBACK] = { "ROLLBACK", 0, RS_NONE, 0, 0, 1 },
	[ST_MAX_PACKET] = { "SELECT @@max_allowed_packet", 0, RS_COUNT, 1,
	    0, 1 },
	/* TiDB has savepoints since v6.2; a new one replaces its namesake. */
	[ST_SAVEPOINT] = { "SAVEPOINT tidbplay_load", 0, RS_NONE, 0, 0, 1 },
	[ST_ROLLBACK_SAVEPOINT] = { "ROLLBACK TO SAVEPOINT tidbplay_load", 0,
	    RS_NONE, 0, 0, 1 },
	[ST_AUTOCOMMIT_OFF] = { "SET autocommit = 0", 0, RS_NONE, 1, 0, 1 },
	[ST_AUTOCOMMIT_ON] = { "SET autocommit = 1", 0, RS_NONE, 1, 0, 1 },
	/* The quickstart's table, made on first use. */
	[ST_CREATE] = { "CREATE TABLE IF NOT EXISTS `%s` (id INTEGER NOT NULL "
	    "AUTO_INCREMENT, name VARCHAR(32), coins INTEGER, goods INTEGER, "
	    "PRIMARY KEY (id), UNIQUE (name))", 0, RS_NONE, 1, 0, 1 },
	/* TiDB's own version, for status; its first line. */
	[ST_TIDB_VERSION] = { "SELECT tidb_version()", 0, RS_NAME, 1, 0, 1 },
	[ST_PROBE] = { "DO 0", 0, RS_NONE, 1, 0, 1 },
};

/* What the server says of its transaction, in the last OK packet. */
static int
server_in_txn(const struct db *db)
{
	return (db->my->server_status & SERVER_STATUS_IN_TRANS) != 0;
}

/*
 * After a statement inside a transaction: the server must still have it.
 * If it does not, the statement ran on its own, outside any transaction,
 * and was kept; the rest was not.
 */
static int
txn_check(struct db *db, enum stmt_id id, char **cause)
{
	/*
	 * With autocommit off (a pipelined load) a statement after the end
	 * opens a new transaction, so the flag says nothing; the load fails
	 * on any error, and rolls back.
	 */
	if (id == ST_COMMIT || id == ST_ROLLBACK || server_in_txn(db) ||
	    db->txn == TX_LOAD)
		return DB_OK;
	if (id == ST_BEGIN) {
		xasprintf(cause, "the server did not start a transaction");
		return DB_FAIL;
	}
	if (db->txn != TX_USER && db->txn != TX_OURS)
		return DB_OK;
	txn_to(db, db->txn == TX_USER ? TX_USER_GONE : TX_NONE);
	xasprintf(cause, "the server had already ended the transaction: this "
	    "statement ran on its own, outside it; nothing else of the "
	    "transaction was kept%s", db->txn == TX_USER_GONE ? " (start again "
	    "with begin)" : "");
	return DB_UNKNOWN;
}

int
in_txn(const struct db *db)
{
	return db->txn == TX_USER || db->txn == TX_OURS || db->txn == TX_LOAD;
}

static MYSQL_STMT *
prepare_sql(struct db *db, const char *sql, unsigned int nparams,
    char **cause)
{
	struct call	 create = { .id = ST_CREATE, .rows = 1 };
	struct call	 again = { .id = ST_BEGIN, .rows = 1 };
	MYSQL_STMT	*st;
	int		 tries, rc = 1;
	char		*why;

	for (tries = 0; tries < 2; tries++) {
		if ((st = mysql_stmt_init(db->my)) == NULL)
			fatalx("out of memory");
		/* A prepare waits on the server too: Ctrl-C may cut it. */
		ON_SERVER(db,
		    mysql_stmt_prepare_start(&rc, st, sql, strlen(sql)),
		    mysql_stmt_prepare_cont(&rc, st, ev));
		if (rc == 0)
			break;
		if (mysql_stmt_errno(st) != ER_NO_SUCH_TABLE || tries > 0) {
			read_error(db, st, cause);
			mysql_stmt_close(st);
			return NULL;
		}
		mysql_stmt_close(st);
		/*
		 * Created on first use, exactly as the quickstart does. The
		 * DDL commits an open transaction there and then (it cannot
		 * have touched a table that was not there): the transaction
		 * starts again at once, so that what follows stays in one.
		 */
		if (run_text(db, &create, &why) != 0 ||
		    (in_txn(db) && run_text(db, &again, &why) != 0)) {
			xasprintf(cause, "cannot create table %s: %s",
			    db->s->table, why);
			free(why);
			return NULL;
		}
	}
	if (mysql_stmt_param_count(st) != nparams)
		fatalx("statement takes %lu parameters, not %u: %s",
		    mysql_stmt_param_count(st), nparams, sql);
	return st;
}

/* The statement's text, every %s of it the table's name. */
static char *
stmt_text(const struct db *db, const char *sql)
{
	const char	*mark;
	char		*text = xstrdup(""), *more;

	while ((mark = strstr(sql, "%s")) != NULL) {
		xasprintf(&more, "%s%.*s%s", text, (int)(mark - sql), sql,
		    db->s->table);
		free(text);
		text = more;
		sql = mark + 2;
	}
	xasprintf(&more, "%s%s", text, sql);
	free(text);
	return more;
}

static int
prepare(struct db *db, enum stmt_id id, char **cause)
{
	const struct stmt_def	*def = &stmt_defs[id];
	char			*sql;

	if (db->stmt[id] != NULL)
		return 0;
	sql = stmt_text(db, def->sql);
	db->stmt[id] = prepare_sql(db, sql, def->nparams, cause);
	free(sql);
	return db->stmt[id] == NULL ? -1 : 0;
}

/*
 * A multi-row statement for this many rows: INSERT ... VALUES (?,?,?),...
 * or SELECT ... WHERE name IN (?,...). Two sizes are kept, the full
 * batch and the rest, so a long import prepares each once.
 */
static MYSQL_STMT *
prepare_many(struct db *db, enum stmt_id id, unsigned int rows,
    char **cause)
{
	int			 insert = id == ST_INSERT_MANY;
	struct many_stmt	*slot = insert ? db->insert_many : db->get_many;
	const char		*one = insert ? "(?,?,?)" : "?";
	struct many_stmt	*m;
	unsigned int		 i;
	char			*head, *sql, *w;
	size_t			 len;

	for (i = 0; i < 2; i++) {
		if (slot[i].stmt != NULL && slot[i].rows == rows)
			return slot[i].stmt;
	}
	m = slot[0].stmt == NULL ? &slot[0] : &slot[1];
	if (m->stmt != NULL)
		mysql_stmt_close(m->stmt);
	memset(m, 0, sizeof *m);
	head = stmt_text(db, insert ? "INSERT INTO `%s` (name, coins, goods) "
	    "VALUES " : SELECT_PLAYERS "WHERE name IN (");
	len = strlen(head) + (size_t)rows * (strlen(one) + 1) + 2;
	sql = w = xmalloc(len);
	w = stpcpy(w, head);
	for (i = 0; i < rows; i++) {
		if (i > 0)
			*w++ = ',';
		w = stpcpy(w, one);
	}
	if (!insert)
		*w++ = ')';
	*w = '\0';
	free(head);
	m->stmt = prepare_sql(db, sql, rows * stmt_defs[id].nparams, cause);
	free(sql);
	if (m->stmt != NULL)
		m->rows = rows;
	return m->stmt;
}

static void
bind_params(MYSQL_BIND *b, const struct param *p, unsigned int n)
{
	unsigned int	i;

	memset(b, 0, n * sizeof *b);
	for (i = 0; i < n; i++) {
		if (p[i].type == P_INT) {
			b[i].buffer_type = MYSQL_TYPE_LONGLONG;
			b[i].buffer = (void *)&p[i].i;
		} else if (p[i].type == P_NULL) {
			b[i].buffer_type = MYSQL_TYPE_NULL;
		} else {
			b[i].buffer_type = MYSQL_TYPE_STRING;
			b[i].buffer = (void *)p[i].s;
			b[i].buffer_length = p[i].len;
		}
	}
}

static void
bind_result(MYSQL_BIND *b, enum shape shape, struct player *pl,
    my_bool *nulls)
{
	memset(b, 0, 4 * sizeof *b);
	switch (shape) {
	case RS_NAME:
		b[0].buffer_type = MYSQL_TYPE_STRING;
		b[0].buffer = pl->name;
		b[0].buffer_length = sizeof pl->name - 1;
		b[0].length = &pl->namelen;
		b[0].is_null = &nulls[1];
		break;
	case RS_COUNT:
		b[0].buffer_type = MYSQL_TYPE_LONGLONG;
		b[0].buffer = &pl->id;
		b[0].is_unsigned = 1;
		break;
	case RS_PLAYER:
		b[0].buffer_type = MYSQL_TYPE_LONGLONG;
		b[0].buffer = &pl->id;
		b[1].buffer_type = MYSQL_TYPE_STRING;
		b[1].buffer = pl->name;
		b[1].buffer_length = sizeof pl->name - 1;
		b[1].length = &pl->namelen;
		b[1].is_null = &nulls[1];
		b[2].buffer_type = MYSQL_TYPE_LONGLONG;
		b[2].buffer = &pl->coins;
		b[2].is_null = &nulls[2];
		b[3].buffer_type = MYSQL_TYPE_LONGLONG;
		b[3].buffer = &pl->goods;
		b[3].is_null = &nulls[3];
		break;
	case RS_NONE:
	case RS_FIELDS:
		break;
	}
}

/*
 * Ctrl-C that came between two statements of a command (a bulk's batches,
 * a trade's steps) stops the statements that follow, but never the
 * ROLLBACK that undoes what went before.
 */
int
refuse_interrupted(struct db *db, enum stmt_id id, char **cause)
{
	if (id == ST_ROLLBACK || id == ST_ROLLBACK_SAVEPOINT ||
	    intr_pending() == 0)
		return 0;
	db->err = ER_QUERY_INTERRUPTED;
	xasprintf(cause, "cancelled");
	return 1;
}

MYSQL_STMT *
statement(struct db *db, const struct call *c, char **cause)
{
	if (stmt_defs[c->id].sql == NULL)
		return prepare_many(db, c->id, c->rows, cause);
	return prepare(db, c->id, cause) == 0 ? db->stmt[c->id] : NULL;
}

int
execute(struct db *db, MYSQL_STMT *st, const struct call *c, char **cause)
{
	unsigned int	 n = stmt_defs[c->id].nparams * c->rows;
	MYSQL_BIND	 small[8], *b = small;
	int		 rc = 0;

	if (n > 8) {
		if (db->nbinds < n) {
			free(db->binds);
			db->binds = xcalloc(n, sizeof *db->binds);
			db->nbinds = n;
		}
		b = db->binds;
	}

	if (n > 0) {
		bind_params(b, c->p, n);
		if (mysql_stmt_bind_param(st, b) != 0)
			rc = -1;
	}
	if (rc == 0) {
		ON_SERVER(db, mysql_stmt_execute_start(&rc, st),
		    mysql_stmt_execute_cont(&rc, st, ev));
	}
	if (rc != 0) {
		read_error(db, st, cause);
		return -1;
	}
	return 0;
}

/* One row of an executed statement: 0, 1 at the end, or an error. */
static int
fetch_row(struct db *db, MYSQL_STMT *st)
{
	int	rc = 1;

	ON_SERVER(db, mysql_stmt_fetch_start(&rc, st),
	    mysql_stmt_fetch_cont(&rc, st, ev));
	return rc;
}

/* What is left of a result is read and dropped. */
static void
free_result(struct db *db, MYSQL_STMT *st)
{
	my_bool	rc = 0;

	ON_SERVER(db, mysql_stmt_free_result_start(&rc, st),
	    mysql_stmt_free_result_cont(&rc, st, ev));
}

#define STOP_DRAIN_SECONDS	0.05

/*
 * The rows are no longer wanted (a callback said stop, or Ctrl-C): read
 * what is already on its way for a moment, and if the result is still
 * coming after that, stop it on the server (KILL QUERY, as Ctrl-C does),
 * so that a big result is neither sent nor read to its end. What is left
 * in flight is dropped by free_result.
 */
static void
stop_fetch(struct db *db, MYSQL_STMT *st)
{
	double		 until = now_seconds() + STOP_DRAIN_SECONDS;
	unsigned long	 n = 0;
	int		 rc;

	while ((rc = fetch_row(db, st)) == 0 || rc == MYSQL_DATA_TRUNCATED) {
		if (++n % 256 == 0 && now_seconds() > until) {
			kill_query(db, 0);
			return;
		}
	}
}

/*
 * The rows of an executed statement, streamed through c->cb as they
 * arrive, so a result of any size takes constant memory. A callback that
 * returns nonzero stops the rows shown; the rest is read and dropped.
 */
static int
fetch(struct db *db, MYSQL_STMT *st, struct call *c, char **cause)
{
	MYSQL_BIND	 rb[4];
	struct player	 pl;
	my_bool		 nulls[4];
	int		 rc = 0, cbrc = 0;

	memset(&pl, 0, sizeof pl);
	memset(nulls, 0, sizeof nulls);
	bind_result(rb, stmt_defs[c->id].shape, &pl, nulls);
	if (mysql_stmt_bind_result(st, rb) != 0) {
		read_error(db, st, cause);
		free_result(db, st);
		return -1;
	}
	while (cbrc == 0 && ((rc = fetch_row(db, st)) == 0 ||
	    rc == MYSQL_DATA_TRUNCATED)) {
		pl.name_null = nulls[1];
		pl.coins_null = nulls[2];
		pl.goods_null = nulls[3];
		if (pl.namelen >= sizeof pl.name)
			pl.namelen = sizeof pl.name - 1;
		pl.name[pl.namelen] = '\0';
		c->emitted++;
		/*
		 * Ctrl-C after the server has sent everything (KILL QUERY
		 * finds nothing running) still stops the rows shown.
		 */
		if (intr_pending() > 0)
			cbrc = ROW_CANCELLED;
		else if (c->cb != NULL)
			cbrc = c->cb(&pl, c->arg);
	}
	if (cbrc != 0)
		stop_fetch(db, st);
	if (cbrc == 0 && rc == 1) {
		read_error(db, st, cause);
		if (db->gave_up == GAVE_UP_NOT)
			free_result(db, st);
		if (db->err == ER_QUERY_INTERRUPTED && c->emitted > 0) {
			free(*cause);
			xasprintf(cause, "cancelled; the rest of the rows were "
			    "not shown");
		}
		return -1;
	}
	if (db->gave_up == GAVE_UP_NOT)
		free_result(db, st);
	if (cbrc == ROW_CANCELLED) {
		db->err = ER_QUERY_INTERRUPTED;
		xasprintf(cause, "cancelled; the rest of the rows were not "
		    "shown");
		return -1;
	}
	if (cbrc != 0) {
		/* The callback's owner knows why, and says so. */
		xasprintf(cause, "the rest of the rows were not read");
		db->err = 0;
		return -1;
	}
	return 0;
}

/* A text statement of ours sent, its answer not read: 0, or -1. */
static int
text_send(struct db *db, enum stmt_id id)
{
	char	*sql = stmt_text(db, stmt_defs[id].sql);
	int	 rc = 1;

	ON_SERVER(db,
	    mysql_send_query_start(&rc, db->my, sql, strlen(sql)),
	    mysql_send_query_cont(&rc, db->my, ev));
	free(sql);
	return rc == 0 ? 0 : -1;
}

/*
 * The answer to a text statement of ours that was sent, and what it
 * returns, if anything, handed to the callback: a number as a row's id, a
 * text as its name (the first line).
 */
static int
text_answer(struct db *db, struct call *c, enum stmt_id id, char **cause)
{
	enum shape	 shape = stmt_defs[id].shape;
	struct player	 pl;
	MYSQL_RES	*res = NULL;
	MYSQL_ROW	 row = NULL;
	my_bool		 failed = 1;
	int		 rc;
	size_t		 n;

	ON_SERVER(db, mysql_read_query_result_start(&failed, db->my),
	    mysql_read_query_result_cont(&failed, db->my, ev));
	rc = failed ? -1 : 0;
	if (rc == 0 && shape != RS_NONE) {
		ON_SERVER(db, mysql_store_result_start(&res, db->my),
		    mysql_store_result_cont(&res, db->my, ev));
		if (res == NULL)
			rc = -1;
		else if ((row = mysql_fetch_row(res)) == NULL && shape == RS_FIELDS) {
			mysql_free_result(res);
			return 0;	/* no rows */
		} else if (row == NULL || row[0] == NULL)
			rc = -1;
	}
	if (rc != 0) {
		if (res != NULL)
			mysql_free_result(res);
		read_error(db, NULL, cause);
		return -1;
	}
	if (res != NULL && shape == RS_FIELDS) {
		do {
			c->emitted++;
			if (c->fields != NULL)
				c->fields(row, mysql_num_fields(res), c->arg);
		} while ((row = mysql_fetch_row(res)) != NULL);
		mysql_free_result(res);
		return 0;
	}
	if (res != NULL) {
		memset(&pl, 0, sizeof pl);
		if (shape == RS_NAME) {
			n = strcspn(row[0], "\n");
			if (n >= sizeof pl.name)
				n = sizeof pl.name - 1;
			memcpy(pl.name, row[0], n);
			pl.namelen = n;
		} else
			pl.id = (long long)strtoull(row[0], NULL, 10);
		mysql_free_result(res);
		c->emitted = 1;
		if (c->cb != NULL)
			c->cb(&pl, c->arg);
		return 0;
	}
	if (id == c->id)
		c->affected = mysql_affected_rows(db->my);
	return 0;
}

/*
 * A statement of ours (stmt_def.text): plain text. With c->then, both go
 * before either answer is read; the server runs them in turn whatever the
 * first one's answer, so the second must be right after a failure of the
 * first too (see db_begin_pipelined, db_commit). The outcome is the first
 * one's; the second's answer is read all the same, so that the
 * connection stays in step, and what it did is seen in the server's
 * status flags (its number, if any, goes to the callback). A connection
 * lost after the first answer is dropped, for the next command to make a
 * new one.
 */
int
run_text(struct db *db, struct call *c, char **cause)
{
	unsigned int	 err;
	char		 state[sizeof db->sqlstate], *why = NULL;
	int		 rc;

	rc = text_send(db, c->id);
	if (rc == 0 && c->then != 0 && text_send(db, c->then) != 0) {
		/* The first went, and may have run: out of step, and lost. */
		read_error(db, NULL, &why);
		xasprintf(cause, "%s; the connection was dropped", why);
		free(why);
		drop_connection(db);
		db->err = CR_SERVER_LOST;
		return -1;
	}
	if (rc != 0) {
		/* Nothing went: no answer is owed. */
		read_error(db, NULL, cause);
		return -1;
	}
	rc = text_answer(db, c, c->id, cause);
	if (c->then != 0 && (rc == 0 || !went(db))) {
		err = db->err;
		memcpy(state, db->sqlstate, sizeof state);
		if (text_answer(db, c, c->then, &why) != 0 && went(db) &&
		    rc == 0)
			drop_connection(db);	/* the first one's stands */
		free(why);
		db->err = err;
		memcpy(db->sqlstate, state, sizeof state);
	}
	db->last_used = now_seconds();
	return rc;
}

/* Run one statement once. */
int
run_once(struct db *db, struct call *c, char **cause)
{
	const struct stmt_def	*def = &stmt_defs[c->id];
	MYSQL_STMT		*st;
	int			 rc;

	if (refuse_interrupted(db, c->id, cause))
		return -1;
	if (def->text)
		return run_text(db, c, cause);
	if ((st = statement(db, c, cause)) == NULL)
		return -1;
	rc = execute(db, st, c, cause);
	if (rc == 0 && stmt_defs[c->id].shape == RS_NONE) {
		c->affected = mysql_stmt_affected_rows(st);
		c->insert_id = mysql_stmt_insert_id(st);
	} else if (rc == 0)
		rc = fetch(db, st, c, cause);
	db->last_used = now_seconds();
	return rc;
}

/*
 * An error that ends a transaction came inside the user's: the server
 * may already have rolled all of it back (a deadlock does), and retrying
 * one statement of it would be wrong. It is rolled back whole, so that
 * client and server agree, and changes are refused until rollback or
 * begin. why is taken.
 */
int
txn_gone(struct db *db, char *why, char **cause)
{
	struct call	 c = { .id = ST_ROLLBACK, .rows = 1 };
	unsigned int	 err = db->err;
	char		*ignored = NULL;

	if (db->my != NULL && run_once(db, &c, &ignored) != 0)
		free(ignored);
	txn_to(db, TX_USER_GONE);
	db->err = err;
	xasprintf(cause, "%s; %s", why, GONE_WORDS);
	free(why);
	return DB_FAIL;
}
/*
 * A statement of the user's transaction failed with an error (not a lost
 * connection): whether the transaction survived is the server's to say,
 * in the status flags of the next OK packet, so a statement that does
 * nothing asks. Gone: the server rolled it back, and says so. Kept, after
 * a conflict or a lock wait (what it read may be stale, and it would
 * commit without the failed statement): tidbplay rolls it back, and says
 * that it did. Kept after any other error (a duplicate name): only the
 * statement was undone, and the transaction goes on. why is taken.
 */
static int
txn_after_error(struct db *db, char *why, char **cause)
{
	struct call	 probe = { .id = ST_PROBE, .rows = 1 };
	struct call	 rb = { .id = ST_ROLLBACK, .rows = 1 };
	unsigned int	 err = db->err;
	char		 state[sizeof db->sqlstate], *ignored = NULL;
	int		 kept;

	memcpy(state, db->sqlstate, sizeof state);
	kept = db->my != NULL && run_once(db, &probe, &ignored) == 0 &&
	    server_in_txn(db);
	free(ignored);
	ignored = NULL;
	db->err = err;
	memcpy(db->sqlstate, state, sizeof state);
	if (kept && !ends_txn(err, state)) {
		*cause = why;
		return DB_FAIL;
	}
	if (kept && db->my != NULL && run_once(db, &rb, &ignored) != 0) {
		free(ignored);
		kept = 0;	/* it goes with the connection, if not now */
	}
	txn_to(db, TX_USER_GONE);
	db->err = err;
	memcpy(db->sqlstate, state, sizeof state);
	xasprintf(cause, "%s; %s: nothing in it was kept; start again with "
	    "begin", why, kept ? "the server kept the transaction, and "
	    "tidbplay rolled it back" : "the server rolled back the "
	    "transaction");
	free(why);
	return DB_FAIL;
}

#define RUN_AGAIN	1
#define LOST_WORDS	"the connection was lost"

/*
 * The connection went while statement c was running (or was given up on:
 * Ctrl-C, or read_timeout, with a server that did not answer): what that
 * means, in one place. A connection given up on is not made again now
 * (the server may still not answer); the next command makes it. Returns
 * RUN_AGAIN when the statement is safe to repeat (a read that had not yet
 * returned rows, an absolute set), else the command's result with *cause
 * set. why is taken.
 */
int
lost(struct db *db, const struct call *c, char *why, char **cause)
{
	const struct stmt_def	*def = &stmt_defs[c->id];
	unsigned int		 err = db->err;
	int			 was_user = db->txn == TX_USER;
	int			 was_ours = db->txn == TX_OURS ||
				    db->txn == TX_LOAD;
	int			 unsafe = def->change && !def->rerun, up;
	char			*rwhy = NULL;

	free(why);
	if (db->gave_up != GAVE_UP_NOT)
		up = gave_up_on(db, &rwhy) == 0;
	else
		up = reconnect(db, LOST_WORDS, &rwhy) == 0;
	db->err = err;
	if (c->id == ST_COMMIT) {
		xasprintf(cause, "the connection was lost while the commit was "
		    "sent: the transaction may or may not have been committed%s"
		    "%s", up ? "" : "; ", up ? "" : rwhy);
		free(rwhy);
		return DB_UNKNOWN;
	}
	if (c->id == ST_ROLLBACK) {
		/* What was asked for: the server drops it with the session. */
		free(rwhy);
		db->err = 0;
		return DB_OK;
	}
	if (was_user || was_ours) {
		db->ours_lost = was_ours && up;
		xasprintf(cause, "the connection was lost inside a transaction: "
		    "the server rolled it back, nothing in it was kept%s%s%s",
		    was_user ? " (start again with begin)" : "",
		    up ? "" : "; ", up ? "" : rwhy);
		free(rwhy);
		return DB_FAIL;
	}
	if (unsafe || (def->change && c->emitted == 0 && !up)) {
		xasprintf(cause, "the connection was lost while the change was "
		    "sent: it may or may not have been applied%s%s",
		    up ? "" : "; ", up ? "" : rwhy);
		free(rwhy);
		return DB_UNKNOWN;
	}
	if (!up) {
		*cause = rwhy;
		return DB_FAIL;
	}
	free(rwhy);
	if (def->rerun && c->emitted == 0)
		return RUN_AGAIN;
	xasprintf(cause, "the connection was lost while rows were arriving; "
	    "run it again");
	return DB_FAIL;
}

/*
 * The server is up but refuses to serve: a Galera node outside the
 * cluster's primary component answers every statement with 1047 (WSREP
 * has not yet prepared node for application use). Nothing it refused was
 * applied.
 */
static int
not_serving(const struct db *db)
{
	return db->err == ER_UNKNOWN_COM_ERROR;
}

/*
 * With a host list, a host that is not serving is left as one that is
 * down: the connection goes, and the next host takes the statement. It
 * was not applied, so it runs again there, a write too; a transaction
 * open on the host that refused went with it (it could not have
 * committed there), and is gone. why is taken.
 */
static int
next_host(struct db *db, const struct call *c, char *why, char **cause)
{
	int	 was_user = db->txn == TX_USER;
	int	 was_ours = db->txn == TX_OURS || db->txn == TX_LOAD;
	char	*rwhy = NULL, *left;
	int	 rc;

	xasprintf(&left, "%s:%u is not serving (%s)", db->hosts[db->cur].name,
	    db->hosts[db->cur].port, why);
	free(why);
	rc = reconnect(db, left, &rwhy);
	free(left);
	if (rc != 0) {
		*cause = rwhy;
		return DB_FAIL;
	}
	if (was_user || was_ours) {
		db->ours_lost = was_ours;
		xasprintf(cause, "the host stopped serving inside a transaction: "
		    "nothing in it was kept%s", was_user ? "; start again "
		    "with begin" : "");
		return DB_FAIL;
	}
	(void)c;
	return RUN_AGAIN;
}

/* Whether the last call lost the connection, or gave up on it. */
int
went(const struct db *db)
{
	return db->gave_up != GAVE_UP_NOT || is_lost(db->err);
}

/* The user's transaction is gone: no change may run as if inside it. */
static int
refuse_gone(struct db *db, enum stmt_id id, char **cause)
{
	if (db->txn != TX_USER_GONE || !stmt_defs[id].change)
		return 0;
	db->err = 0;
	xasprintf(cause, "refused: %s (or say rollback)", GONE_WORDS);
	return 1;
}

/*
 * Run a statement with the retry and reconnect rules: autocommit statements
 * are retried on the retryable errors; inside a transaction they are not
 * (ours is retried whole by the caller, the user's is gone); after a
 * reconnect only statements that are safe to repeat run again, and a write
 * whose fate is unknown is reported as such, never repeated.
 */
int
run(struct db *db, struct call *c, char **cause)
{
	unsigned int	 attempt = 0, reruns = 0;
	int		 open, rc;
	char		*why;

	db->err = 0;
	db->ours_lost = 0;
	if (db->pipe.n > 0) {
		/* Its answer would be read as that of the batches before. */
		xasprintf(cause, "internal error: %u statements sent are not "
		    "answered yet", db->pipe.n);
		return DB_FAIL;
	}
	if (refuse_gone(db, c->id, cause) ||
	    ensure_connected(db, &stmt_defs[c->id], cause) != 0)
		return DB_FAIL;
	learn_conn_id(db);
	for (;;) {
		open = in_txn(db);
		c->emitted = 0;
		if (run_once(db, c, &why) == 0)
			return open ? txn_check(db, c->id, cause) : DB_OK;
		if (went(db)) {
			if ((rc = lost(db, c, why, cause)) != RUN_AGAIN)
				return rc;
			/* A server that keeps dropping us is not waited on. */
			if (++reruns >= db->s->retries) {
				xasprintf(cause, "the connection was lost %u "
				    "times in a row", reruns);
				return DB_FAIL;
			}
			continue;
		}
		if (not_serving(db) && db->nhosts > 1) {
			if ((rc = next_host(db, c, why, cause)) != RUN_AGAIN)
				return rc;
			if (++reruns >= db->s->retries) {
				xasprintf(cause, "no host of the list is serving "
				    "(%u tried)", reruns);
				return DB_FAIL;
			}
			continue;
		}
		if (db->txn == TX_USER && c->id != ST_ROLLBACK &&
		    c->id != ST_COMMIT && db->err != 0 &&
		    db->err != ER_QUERY_INTERRUPTED)
			return txn_after_error(db, why, cause);
		if (!is_retryable(db->err) || c->emitted != 0 || open) {
			*cause = why;
			return DB_FAIL;
		}
		if (attempt + 1 >= db->s->retries) {
			if (attempt == 0)
				*cause = why;
			else {
				xasprintf(cause, "%s (gave up after %u "
				    "attempts)", why, attempt + 1);
				free(why);
			}
			return DB_FAIL;
		}
		free(why);
		if (db_backoff(db, attempt++, db->err, cause) != 0)
			return DB_FAIL;
	}
}

int
db_exec(struct db *db, enum stmt_id id, const struct param *p,
    unsigned long long *affected, unsigned long long *insert_id,
    char **cause)
{
	struct call	c = { .id = id, .p = p, .rows = 1 };
	int		rc;

	rc = run(db, &c, cause);
	if (affected != NULL)
		*affected = c.affected;
	if (insert_id != NULL)
		*insert_id = c.insert_id;
	return rc;
}

int
db_rows(struct db *db, enum stmt_id id, const struct param *p, row_cb cb,
    void *arg, char **cause)
{
	struct call	c = { .id = id, .p = p, .rows = 1, .cb = cb, .arg = arg };

	return run(db, &c, cause);
}

int
run_simple(struct db *db, enum stmt_id id, char **cause)
{
	struct call	c = { .id = id, .rows = 1 };

	return run(db, &c, cause);
}

/* A number the server returned, as a row's id. */
int
got_id(const struct player *pl, void *arg)
{
	*(unsigned long long *)arg = (unsigned long long)pl->id;
	return 0;
}

/*
 * Whether the server has closed the connection while it idled (TiDB
 * Serverless and wait_timeout close idle ones): a closed connection has
 * its FIN, or an error packet, waiting in the socket, which a look that
 * does not wait finds at no cost. Something else may be waiting too (a
 * TLS session ticket), so what the look sees is confirmed with a ping. A
 * connection idle for very long is pinged anyway.
 */
static int
looks_closed(struct db *db)
{
	struct pollfd	pfd;

	pfd.fd = (int)mysql_get_socket(db->my);
	pfd.events = POLLIN;
	pfd.revents = 0;
	if (pfd.fd < 0)
		return 1;
	if (poll(&pfd, 1, 0) == 1 && pfd.revents != 0)
		return 1;
	return now_seconds() - db->last_used > IDLE_PING_SECONDS;
}

/* A ping waits on the server like a statement: Ctrl-C may cut it. */
static int
ping(struct db *db)
{
	int	rc = 1;

	ON_SERVER(db, mysql_ping_start(&rc, db->my),
	    mysql_ping_cont(&rc, db->my, ev));
	return rc;
}

/*
 * The connection was given up on while the server did not answer (Ctrl-C
 * or read_timeout): it goes, with any transaction on it, and no new one
 * is made in this command (the server would not answer it either).
 */
int
gave_up_on(struct db *db, char **cause)
{
	int	was_user = db->txn == TX_USER;

	drop_connection(db);
	txn_lost(db);
	if (db->gave_up == GAVE_UP_TIMEOUT) {
		conn_to(db, CONN_HUNG);
		xasprintf(cause, "the server did not answer within "
		    "read_timeout (%u s)", db->s->read_timeout);
	} else {
		conn_to(db, CONN_CANCELLED);
		xasprintf(cause, "cancelled: the server did not answer, so the "
		    "connection was dropped; the next command makes a new "
		    "one%s", was_user ? "; the transaction went with it, "
		    "nothing in it was kept" : "");
	}
	return -1;
}

/*
 * Before a statement, make sure the connection is still there; a
 * transaction open on a connection that went is gone (the server rolled
 * it back), and carrying on would run the rest of it in autocommit. A
 * read that is safe to repeat needs no ping: if the connection has gone it
 * fails at once, and runs again after the reconnect.
 */
int
ensure_connected(struct db *db, const struct stmt_def *def, char **cause)
{
	int	 was_user = db->txn == TX_USER;
	int	 was_ours = db->txn == TX_OURS || db->txn == TX_LOAD;
	char	*why;

	if (renew_old(db, cause) != 0)
		return -1;
	switch (db->conn) {
	case CONN_CANCELLED:
	case CONN_HUNG:
		/* The server just failed to answer: it would not now either. */
		xasprintf(cause, "no connection: the server did not answer");
		return -1;
	case CONN_NONE:
	case CONN_DOWN:
		return reconnect(db, LOST_WORDS, cause);
	case CONN_IDLE:
		break;
	default:
		xasprintf(cause, "internal error: the connection is busy");
		return -1;
	}
	if (!looks_closed(db))
		return 0;
	if (def != NULL && def->rerun && !def->change && !was_user &&
	    !was_ours)
		return 0;
	if (ping(db) == 0) {
		db->last_used = now_seconds();
		return 0;
	}
	if (db->gave_up != GAVE_UP_NOT)
		return gave_up_on(db, cause);
	if (!is_lost(read_error(db, NULL, &why))) {
		if (was_user)
			return txn_gone(db, why, cause) == DB_OK ? 0 : -1;
		*cause = why;
		return -1;
	}
	free(why);
	if (reconnect(db, LOST_WORDS, &why) != 0) {
		if (!was_user && !was_ours) {
			*cause = why;
			return -1;
		}
		xasprintf(cause, "the connection was lost while a transaction "
		    "was open: the server rolls it back, nothing in it is kept; "
		    "%s", why);
		free(why);
		return -1;
	}
	if (was_user || was_ours) {
		db->ours_lost = was_ours;
		xasprintf(cause, "the connection was lost while a transaction "
		    "was open: the server rolled it back, nothing in it was "
		    "kept%s", was_user ? " (start again with begin)" : "");
		return -1;
	}
	db->err = 0;
	return 0;
}

/*
 * The connection's id as the server knows it, for KILL: TiDB's can be 64
 * bits, and the handshake carries only 32. Read once per connection, and
 * only where Ctrl-C can ask for it.
 */
void
learn_conn_id(struct db *db)
{
	struct call	 c = { .id = ST_CONNECTION_ID, .rows = 1, .cb = got_id };
	unsigned long long id = 0;
	char		*why;

	c.arg = &id;
	if (!db->want_conn_id || db->conn_id != 0 || db->my == NULL)
		return;
	if (run_once(db, &c, &why) != 0) {
		free(why);
		db->err = 0;
		return;
	}
	db->conn_id = id;
}
