/*
 * The connection to the server: the host list and the TLS policy, the
 * prepared statements, and one run path for every statement (one fetch
 * loop, one reader of errors, one reconnect, one rule for a write whose
 * fate is unknown), with the user's transaction as the server reports it.
 * The only file that calls mysql_*; it prints nothing itself.
 */
#include "config.h"

#include "db-private.h"

const struct stmt_def stmt_defs[ST_COUNT_ALL] = {
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
	    "AND table_name = '%s' AND non_unique = 0 GROUP BY index_name",
	    0, RS_NONE, 1, 0, 1 },
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
};
static int	prepare(struct db *, enum stmt_id, char **);

/* Something the user should hear while a command runs. */
void
db_notice(struct db *db, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	if (db->notice != NULL)
		db->notice(db->notice_arg, msg);
	free(msg);
}

/*
 * The connection is gone. Only asked of a connection that was up: there a
 * TLS error (2026) is the socket closing under the TLS layer, which is what
 * a killed or timed-out connection looks like over TLS, not a failed
 * handshake.
 */
int
is_lost(unsigned int err)
{
	return err == CR_SERVER_GONE_ERROR || err == CR_SERVER_LOST ||
	    err == CR_SSL_CONNECTION_ERROR ||
	    err == 2055 /* CR_SERVER_LOST_EXTENDED */ ||
	    err == ER_SERVER_SHUTDOWN || err == ER_CONNECTION_KILLED ||
	    err == 4031 /* disconnected by the server for inactivity */;
}

/* A server that is restarting refuses connections for a moment. */
int
is_transient_connect(unsigned int err)
{
	return err == CR_CONNECTION_ERROR || err == CR_CONN_HOST_ERROR ||
	    err == CR_SERVER_LOST || err == CR_SERVER_GONE_ERROR ||
	    err == ER_SERVER_SHUTDOWN || err == ER_CON_COUNT_ERROR;
}

/* The errors TiDB (and InnoDB, and Galera) ask a client to retry. */
static int
is_retryable(unsigned int err)
{
	switch (err) {
	case ER_LOCK_DEADLOCK:		/* 1213; Galera's conflicts too */
	case ER_LOCK_WAIT_TIMEOUT:	/* 1205 */
	case 8002:	/* SELECT FOR UPDATE write conflict */
	case 8005:	/* write conflict */
	case 8022:	/* transaction retry failed */
	case 8028:	/* schema changed */
	case 9007:	/* write conflict */
		return 1;
	}
	return 0;
}

/*
 * An error after which the server may no longer have the transaction: a
 * deadlock rolls it all back, and TiDB's conflicts do; a lock wait timeout
 * does where the server is set to. Such a transaction is rolled back
 * whole, so that client and server agree that nothing of it is kept.
 */
int
ends_txn(unsigned int err, const char *sqlstate)
{
	return is_retryable(err) || strcmp(sqlstate, "40001") == 0;
}

/*
 * The one reader of server errors. Connector/C leaves some on the
 * connection handle rather than the statement (an error packet that
 * arrives while rows are fetched: a deadlock on a cluster, a cancelled
 * query), so both are read; the number is kept for the retry rules.
 */
unsigned int
read_error(struct db *db, MYSQL_STMT *st, char **cause)
{
	unsigned int	 err = st != NULL ? mysql_stmt_errno(st) : 0;
	const char	*msg, *state;

	if (err != 0) {
		msg = mysql_stmt_error(st);
		state = mysql_stmt_sqlstate(st);
	} else if (db->my != NULL && (err = mysql_errno(db->my)) != 0) {
		msg = mysql_error(db->my);
		state = mysql_sqlstate(db->my);
	} else {
		err = CR_UNKNOWN_ERROR;
		msg = "the server ended the statement without saying why";
		state = "HY000";
	}
	db->err = err;
	snprintf(db->sqlstate, sizeof db->sqlstate, "%s", state);
	switch (err) {
	case ER_DUP_ENTRY:
		snprintf(db->dup, sizeof db->dup, "%s", msg);
		xasprintf(cause, "a player with that name already exists: %s "
		    "(%u)", msg, err);
		break;
	case ER_QUERY_INTERRUPTED:
		xasprintf(cause, "cancelled; the statement was rolled back");
		break;
	default:
		xasprintf(cause, "server error %u (%s): %s", err, state, msg);
		break;
	}
	return err;
}

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
	    db->autocommit_off)
		return DB_OK;
	if (id == ST_BEGIN) {
		xasprintf(cause, "the server did not start a transaction");
		return DB_FAIL;
	}
	if (db->user != TXN_OPEN && !db->ours)
		return DB_OK;
	if (db->user == TXN_OPEN)
		db->user = TXN_GONE;
	db->ours = 0;
	xasprintf(cause, "the server had already ended the transaction: this "
	    "statement ran on its own, outside it; nothing else of the "
	    "transaction was kept%s", db->user == TXN_GONE ? " (start again "
	    "with begin)" : "");
	return DB_UNKNOWN;
}

static int
in_txn(const struct db *db)
{
	return db->user == TXN_OPEN || db->ours;
}

static MYSQL_STMT *
prepare_sql(struct db *db, const char *sql, unsigned int nparams,
    char **cause)
{
	MYSQL_STMT	*st;
	int		 tries, rc;
	char		*ddl;

	for (tries = 0; tries < 2; tries++) {
		if ((st = mysql_stmt_init(db->my)) == NULL)
			fatalx("out of memory");
		/* A prepare waits on the server too: Ctrl-C may cut it. */
		db->cancelled = 0;
		db->cancellable = CANCEL_QUERY;
		rc = mysql_stmt_prepare(st, sql, strlen(sql));
		db->cancellable = CANCEL_NONE;
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
		xasprintf(&ddl, "CREATE TABLE IF NOT EXISTS `%s` (id INTEGER "
		    "NOT NULL AUTO_INCREMENT, name VARCHAR(32), coins INTEGER, "
		    "goods INTEGER, PRIMARY KEY (id), UNIQUE (name))",
		    db->s->table);
		if (mysql_real_query(db->my, ddl, strlen(ddl)) != 0 ||
		    (in_txn(db) && mysql_real_query(db->my,
		    "START TRANSACTION", 17) != 0)) {
			char *why;

			read_error(db, NULL, &why);
			xasprintf(cause, "cannot create table %s: %s",
			    db->s->table, why);
			free(why);
			free(ddl);
			return NULL;
		}
		free(ddl);
	}
	if (mysql_stmt_param_count(st) != nparams)
		fatalx("statement takes %lu parameters, not %u: %s",
		    mysql_stmt_param_count(st), nparams, sql);
	return st;
}

/* The statement's text, with the table's name in it. */
static char *
stmt_text(struct db *db, const char *sql)
{
	const char	*mark;
	char		*text;

	if ((mark = strstr(sql, "%s")) == NULL)
		return xstrdup(sql);
	xasprintf(&text, "%.*s%s%s", (int)(mark - sql), sql, db->s->table,
	    mark + 2);
	return text;
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
	    !db->interrupted)
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
		db->cancelled = 0;
		db->executions++;
		db->cancellable = CANCEL_QUERY;
		rc = mysql_stmt_execute(st);
	}
	if (rc != 0) {
		db->cancellable = CANCEL_NONE;
		read_error(db, st, cause);
		return -1;
	}
	return 0;
}


#define STOP_DRAIN_SECONDS	0.05

/*
 * The rows are no longer wanted (a callback said stop, or Ctrl-C): read
 * what is already on its way for a moment, and if the result is still
 * coming after that, stop it on the server (KILL QUERY, as Ctrl-C does),
 * so that a big result is neither sent nor read to its end. What is left
 * in flight is dropped by mysql_stmt_free_result.
 */
static void
stop_fetch(struct db *db, MYSQL_STMT *st)
{
	double		 until = now_seconds() + STOP_DRAIN_SECONDS;
	unsigned long	 n = 0;
	int		 rc;

	while ((rc = mysql_stmt_fetch(st)) == 0 || rc == MYSQL_DATA_TRUNCATED) {
		if (++n % 256 == 0 && now_seconds() > until) {
			if (!db->cancelled)
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
	int		 rc, cbrc = 0;

	memset(&pl, 0, sizeof pl);
	memset(nulls, 0, sizeof nulls);
	bind_result(rb, stmt_defs[c->id].shape, &pl, nulls);
	if (mysql_stmt_bind_result(st, rb) != 0) {
		db->cancellable = CANCEL_NONE;
		read_error(db, st, cause);
		mysql_stmt_free_result(st);
		return -1;
	}
	while (cbrc == 0 && ((rc = mysql_stmt_fetch(st)) == 0 ||
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
		if (db->interrupted)
			cbrc = ROW_CANCELLED;
		else if (c->cb != NULL)
			cbrc = c->cb(&pl, c->arg);
	}
	if (cbrc != 0)
		stop_fetch(db, st);
	db->cancellable = CANCEL_NONE;
	if (cbrc == 0 && rc == 1) {
		read_error(db, st, cause);
		mysql_stmt_free_result(st);
		if (db->err == ER_QUERY_INTERRUPTED && c->emitted > 0) {
			free(*cause);
			xasprintf(cause, "cancelled; the rest of the rows were "
			    "not shown");
		}
		return -1;
	}
	mysql_stmt_free_result(st);
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

/*
 * A statement of ours (stmt_def.text): plain text, and the number it
 * returns, if any, handed to the callback as a row's id.
 */
static int
run_text(struct db *db, struct call *c, char **cause)
{
	const char	*sql = stmt_defs[c->id].sql;
	struct player	 pl;
	MYSQL_RES	*res = NULL;
	MYSQL_ROW	 row = NULL;
	int		 rc;

	db->cancelled = 0;
	db->executions++;
	db->cancellable = CANCEL_QUERY;
	rc = mysql_real_query(db->my, sql, strlen(sql));
	if (rc == 0 && stmt_defs[c->id].shape == RS_COUNT &&
	    ((res = mysql_store_result(db->my)) == NULL ||
	    (row = mysql_fetch_row(res)) == NULL || row[0] == NULL))
		rc = -1;
	db->cancellable = CANCEL_NONE;
	db->last_used = now_seconds();
	if (rc != 0) {
		if (res != NULL)
			mysql_free_result(res);
		read_error(db, NULL, cause);
		return -1;
	}
	if (res != NULL) {
		memset(&pl, 0, sizeof pl);
		pl.id = (long long)strtoull(row[0], NULL, 10);
		mysql_free_result(res);
		c->emitted = 1;
		if (c->cb != NULL)
			c->cb(&pl, c->arg);
		return 0;
	}
	c->affected = mysql_affected_rows(db->my);
	return 0;
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
		db->cancellable = CANCEL_NONE;
		c->affected = mysql_stmt_affected_rows(st);
		c->insert_id = mysql_stmt_insert_id(st);
	} else if (rc == 0)
		rc = fetch(db, st, c, cause);
	db->last_used = now_seconds();
	return rc;
}
#define GONE_WORDS	"the transaction was rolled back by the server: " \
			"nothing in it was kept; start again with begin"

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
	db->user = TXN_GONE;
	db->err = err;
	xasprintf(cause, "%s; %s", why, GONE_WORDS);
	free(why);
	return DB_FAIL;
}


#define RUN_AGAIN	1

/*
 * The connection went while statement c was running (or Ctrl-C cut it
 * from a server that did not answer): what that means, in one place.
 * A cut connection is not made again now (the server may still not
 * answer); the next command makes it. Returns RUN_AGAIN when the statement
 * is safe to repeat (a read that had not yet returned rows, an absolute
 * set), else the command's result with *cause set. why is taken.
 */
static int
lost(struct db *db, const struct call *c, char *why, char **cause)
{
	const struct stmt_def	*def = &stmt_defs[c->id];
	unsigned int		 err = db->err;
	int			 was_user = db->user == TXN_OPEN;
	int			 was_ours = db->ours, up;
	int			 unsafe = def->change && !def->rerun;
	char			*rwhy = NULL;

	free(why);
	if (db->hung) {
		/* A server that hangs would hang the reconnect too. */
		drop_connection(db);
		db->ours = 0;
		if (was_user)
			db->user = TXN_GONE;
		db->down = 1;
		db->cut = 1;
		up = 0;
		xasprintf(&rwhy, "the server did not answer within read_timeout "
		    "(%u s)", db->s->read_timeout);
	} else if (db->abandoned) {
		drop_connection(db);
		db->ours = 0;
		if (was_user)
			db->user = TXN_GONE;
		db->cut = 1;
		up = 0;
		rwhy = xstrdup("cancelled: the server did not answer, so the "
		    "connection was dropped; the next command makes a new one");
	} else
		up = reconnect(db, &rwhy) == 0;
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
		db->rolled_back = was_ours && up;
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
 * The connection went under statement c, sent at t0: a server that let
 * read_timeout pass without a word is hung. lost() says what it means.
 */
int
lost_under(struct db *db, const struct call *c, double t0, char *why,
    char **cause)
{
	db->hung = db->s->read_timeout > 0 &&
	    now_seconds() - t0 >= db->s->read_timeout * 0.9;
	return lost(db, c, why, cause);
}

/* The user's transaction is gone: no change may run as if inside it. */
static int
refuse_gone(struct db *db, enum stmt_id id, char **cause)
{
	if (db->user != TXN_GONE || !stmt_defs[id].change)
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
	double		 t0;
	int		 open, rc;
	char		*why;

	db->err = 0;
	db->rolled_back = 0;
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
		t0 = now_seconds();
		if (run_once(db, c, &why) == 0)
			return open ? txn_check(db, c->id, cause) : DB_OK;
		if (is_lost(db->err)) {
			if ((rc = lost_under(db, c, t0, why, cause)) !=
			    RUN_AGAIN)
				return rc;
			/* A server that keeps dropping us is not waited on. */
			if (++reruns >= db->s->retries) {
				xasprintf(cause, "the connection was lost %u "
				    "times in a row", reruns);
				return DB_FAIL;
			}
			continue;
		}
		if (db->user == TXN_OPEN && c->id != ST_ROLLBACK &&
		    ends_txn(db->err, db->sqlstate))
			return txn_gone(db, why, cause);
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
		if (db_backoff(db, attempt++, cause) != 0)
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

/*
 * After the commit or rollback of a pipelined load: autocommit on again.
 * A session that stayed with it off would keep nothing of the commands
 * after, so if the server cannot be told, the connection goes, and the
 * next command makes a new one (autocommit on, as every new one is).
 */
static void
autocommit_back(struct db *db)
{
	char	*why = NULL;

	if (!db->autocommit_off)
		return;
	db->autocommit_off = 0;
	if (db->my != NULL &&
	    (run_simple(db, ST_AUTOCOMMIT_ON, &why) != DB_OK ||
	    (db->my != NULL &&
	    !(db->my->server_status & SERVER_STATUS_AUTOCOMMIT))))
		drop_connection(db);
	free(why);
}

/* user: the user's begin (never retried) rather than one of ours. */
int
db_begin(struct db *db, int user, char **cause)
{
	if (db->user == TXN_OPEN || db->ours) {
		xasprintf(cause, "a transaction is already open");
		return DB_FAIL;
	}

	if (!user && db->user == TXN_GONE) {
		xasprintf(cause, "refused: %s (or say rollback)", GONE_WORDS);
		return DB_FAIL;
	}
	if (run_simple(db, ST_BEGIN, cause) != DB_OK)
		return DB_FAIL;
	if (user)
		db->user = TXN_OPEN;
	else
		db->ours = 1;
	return DB_OK;
}

/*
 * A commit the server refuses ends the user's transaction all the same
 * (on a cluster a conflict is found at COMMIT): nothing of it is kept, and
 * that is what the user is told. Ours is rolled back by the caller.
 */
int
db_commit(struct db *db, char **cause)
{
	int	 rc;
	char	*why;

	if (db->user == TXN_GONE) {
		xasprintf(cause, "nothing to commit: %s", GONE_WORDS);
		return DB_FAIL;
	}
	if (db->user != TXN_OPEN && !db->ours) {
		xasprintf(cause, "no transaction is open");
		return DB_FAIL;
	}
	rc = run_simple(db, ST_COMMIT, &why);
	if (rc == DB_FAIL && db->user == TXN_OPEN)
		return txn_gone(db, why, cause);
	if (rc != DB_OK)
		*cause = why;
	if (rc != DB_FAIL) {
		db->ours = 0;
		db->user = TXN_NONE;
		autocommit_back(db);
	}
	return rc;
}

int
db_rollback(struct db *db, char **cause)
{
	unsigned int	 err = db->err;
	int		 rolled_back = db->rolled_back;
	char		*why = NULL;
	int		 rc = DB_OK;

	if (db->user == TXN_NONE && !db->ours) {
		if (cause != NULL)
			xasprintf(cause, "no transaction is open");
		return DB_FAIL;
	}
	/* A transaction the server ended needs no word to it. */
	if (db->user != TXN_GONE && db->my != NULL)
		rc = run_simple(db, ST_ROLLBACK, &why);
	db->user = TXN_NONE;
	db->ours = 0;
	autocommit_back(db);
	/* Cleaning up after a failure keeps that failure for the caller. */
	if (rc == DB_OK) {
		db->err = err;
		db->rolled_back = rolled_back;
	}
	if (cause != NULL)
		*cause = why;
	else
		free(why);
	return rc;
}

int
db_in_txn(const struct db *db)
{
	return db->user == TXN_OPEN;
}

enum txn_state
db_txn(const struct db *db)
{
	return db->user;
}

/*
 * Whether the last failure may be retried as a whole transaction: a
 * retryable error, or our transaction lost with a connection that came back
 * (the server rolled it back, so nothing of it was applied).
 */
int
db_last_retryable(const struct db *db)
{
	return is_retryable(db->err) || db->rolled_back;
}

/*
 * Whether the last failure was one of TiDB's limits on one transaction:
 * 8004 (txn-total-size-limit), 8025 (an entry too large), 9500 (the same,
 * before v4).
 */
int
db_last_too_large(const struct db *db)
{
	return db->err == 8004 || db->err == 8025 || db->err == 9500;
}

/*
 * The name a duplicate key (1062) was refused for, as the server's message
 * has it: "Duplicate entry 'NAME' for key 'KEY'" (MariaDB, MySQL, TiDB).
 * Returns its length, or -1 when the last failure says no such name.
 */
int
db_dup_value(const struct db *db, char *buf, size_t size)
{
	static const char	 head[] = "Duplicate entry '";
	static const char	 tail[] = "' for key '";
	const char		*v, *end = NULL, *p;
	size_t			 len;

	if (db->err != ER_DUP_ENTRY ||
	    strncmp(db->dup, head, sizeof head - 1) != 0)
		return -1;
	v = db->dup + sizeof head - 1;
	/* The last one: a name may hold the words too, a key's name not. */
	for (p = v; (p = strstr(p, tail)) != NULL; p++)
		end = p;
	if (end == NULL || (len = (size_t)(end - v)) >= size)
		return -1;
	memcpy(buf, v, len);
	buf[len] = '\0';
	return (int)len;
}

unsigned int
db_retries(const struct db *db)
{
	return db->s->retries;
}

/* A number the server returned, as a row's id. */
int
got_id(const struct player *pl, void *arg)
{
	*(unsigned long long *)arg = (unsigned long long)pl->id;
	return 0;
}

/*
 * The connection's id as the server knows it, for KILL QUERY: TiDB's can
 * be 64 bits, and the handshake carries only 32. Read once per connection,
 * and only where Ctrl-C can ask for it.
 */
static int
got_name(const struct player *pl, void *arg)
{
	char	*buf = arg;

	if (!pl->name_null && pl->namelen <= COLLATION_MAX) {
		memcpy(buf, pl->name, pl->namelen);
		buf[pl->namelen] = '\0';
	}
	return 0;
}

/* The table's collation, read once per connection for status. */
static void
learn_collation(struct db *db)
{
	struct param	 p = { P_STR, 0, db->s->table, strlen(db->s->table) };
	struct call	 c = { .id = ST_COLLATION, .p = &p, .rows = 1,
			       .cb = got_name, .arg = db->collation };
	char		*why;

	if (db->collation[0] != '\0' || db->my == NULL)
		return;
	if (run_once(db, &c, &why) != 0) {
		free(why);
		db->err = 0;
		db->collation[0] = '\0';
	}
}

void
db_info(struct db *db, struct db_info *info)
{
	const char	*v = NULL;
	MYSQL_RES	*res;
	MYSQL_ROW	 row;
	char		*cause = NULL;

	memset(info, 0, sizeof *info);
	/* status reports what it finds, a transaction lost while idle too. */
	if (ensure_connected(db, NULL, &cause) != 0) {
		db_notice(db, "%s", cause);
		free(cause);
	}
	learn_conn_id(db);
	info->host = db->hosts[db->cur].name;
	info->port = db->hosts[db->cur].port;
	info->user = db->s->user;
	info->database = db->s->database;
	info->retries = db->retries;
	info->reconnects = db->reconnects;
	info->thread_id = db->conn_id != 0 ? db->conn_id : db->thread_id;
	if (db->my == NULL)
		return;
	learn_collation(db);
	if (db->collation[0] != '\0')
		info->collation = db->collation;
	info->shape = db->shape;
	info->server = mysql_get_server_info(db->my);
	if (strstr(info->server, "TiDB") != NULL &&
	    mysql_query(db->my, "SELECT tidb_version()") == 0 &&
	    (res = mysql_store_result(db->my)) != NULL) {
		if ((row = mysql_fetch_row(res)) != NULL && row[0] != NULL) {
			size_t n = strcspn(row[0], "\n");
			info->tidb = xstrndup(row[0], n);
		}
		mysql_free_result(res);
	}
	if (db->hosts[db->cur].tls) {
#if HAVE_DECL_MARIADB_OPT_TLS_VERSION
		if (mariadb_get_infov(db->my, MARIADB_CONNECTION_TLS_VERSION,
		    &v) != 0)
			v = NULL;
#endif
		info->tls_version = v != NULL ? v : "TLS";
		info->cipher = mysql_get_ssl_cipher(db->my);
		info->ca = db->ca_desc;
	}
}

/* Every %s of sql replaced by the table's name. */
static char *
table_text(const struct db *db, const char *sql)
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
is_integer_type(const char *t)
{
	return strcmp(t, "int") == 0 || strcmp(t, "bigint") == 0 ||
	    strcmp(t, "integer") == 0;
}

/* One more thing the table lacks, to the list in *why. */
static void	lacks(char **, const char *, ...)
		    __attribute__((format(printf, 2, 3)));

static void
lacks(char **why, const char *fmt, ...)
{
	va_list	 ap;
	char	*item, *more;

	va_start(ap, fmt);
	xvasprintf(&item, fmt, ap);
	va_end(ap);
	xasprintf(&more, "%s%s%s", *why == NULL ? "" : *why,
	    *why == NULL ? "" : "; ", item);
	free(item);
	free(*why);
	*why = more;
}

/*
 * The table as the commands need it: every command names a player by
 * name, so a table without a unique key on exactly (name) would let "del
 * x" delete two players after asking about one. Checked once, when the
 * connection is first made, in one round trip: a table that is not there
 * yet is made with the quickstart's shape on first use; one that is there
 * must have a unique key on (name) alone, an integer id, a name of at
 * least 32 characters, and integer coins and goods (a view: the columns
 * only, its table's keys are not to be seen). -1 and *cause says
 * everything it lacks.
 */
int
check_shape(struct db *db, char **cause)
{
	static const char *const want[] = { "id", "name", "coins", "goods" };
	MYSQL_RES	*res;
	MYSQL_ROW	 row;
	char		*sql, *why = NULL, n[32];
	const char	*type[4] = { NULL, NULL, NULL, NULL };
	unsigned long	 len[4] = { 0, 0, 0, 0 };
	int		 there = 0, view = 0, unique = 0, i, rc;

	sql = table_text(db, stmt_defs[ST_SHAPE].sql);
	rc = mysql_real_query(db->my, sql, strlen(sql));
	free(sql);
	if (rc != 0 || (res = mysql_store_result(db->my)) == NULL) {
		read_error(db, NULL, &why);
		xasprintf(cause, "cannot read the shape of table %s: %s",
		    db->s->table, why);
		free(why);
		return -1;
	}
	while ((row = mysql_fetch_row(res)) != NULL) {
		if (row[0] == NULL || row[1] == NULL)
			continue;
		if (strcmp(row[0], "t") == 0) {
			there = 1;
			view = strcmp(row[1], "VIEW") == 0;
		}
		else if (strcmp(row[0], "u") == 0 && row[2] != NULL &&
		    strcmp(row[2], "name") == 0)
			unique = 1;
		else if (strcmp(row[0], "c") == 0 && row[2] != NULL) {
			for (i = 0; i < 4; i++) {
				if (strcmp(row[1], want[i]) != 0)
					continue;
				type[i] = xstrdup(row[2]);
				len[i] = row[3] != NULL ?
				    strtoul(row[3], NULL, 10) : 0;
			}
		}
	}
	mysql_free_result(res);
	if (!there) {
		free(db->shape);
		db->shape = xstrdup("not there at connect: made on first use as the "
		    "quickstart's");
		return 0;
	}
	/* A view has no keys of its own: its table's cannot be seen. */
	if (!unique && !view)
		lacks(&why, "no unique key on exactly (name)");
	for (i = 0; i < 4; i++) {
		if (type[i] == NULL)
			lacks(&why, "no column %s", want[i]);
		else if (i != 1 && !is_integer_type(type[i]))
			lacks(&why, "%s is %s, not an integer", want[i],
			    type[i]);
		else if (i == 1 && ((strcmp(type[i], "varchar") != 0 &&
		    strcmp(type[i], "char") != 0) || len[i] < 32)) {
			snprintf(n, sizeof n, "(%lu)", len[i]);
			lacks(&why, "name is %s%s, not a VARCHAR of 32 "
			    "characters or more", type[i], len[i] > 0 ? n : "");
		}
	}
	for (i = 0; i < 4; i++)
		free((char *)type[i]);
	if (why != NULL) {
		xasprintf(cause, "table %s cannot be used: %s (tidbplay needs "
		    "the quickstart's players table: each player named by "
		    "one unique name)", db->s->table, why);
		free(why);
		return -1;
	}
	free(db->shape);
	db->shape = xstrdup(view ? "a view: its columns checked; its "
	    "table's unique key on (name) cannot be seen" : "checked: "
	    "UNIQUE (name); id, coins, goods integers; name VARCHAR");
	return 0;
}
