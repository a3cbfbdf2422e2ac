/*
 * The loads' statements: multi-row INSERTs, sent one after another
 * without waiting (pipelined), and the batch sizes the server allows.
 */
#include "config.h"

#include "db-private.h"


/* Room for n parameters of a multi-row statement. */
static struct param *
many_params(struct db *db, size_t n)
{
	if (db->nparams < n) {
		free(db->params);
		db->params = xreallocarray(NULL, n, sizeof *db->params);
		db->nparams = n;
	}
	return db->params;
}


/* The parameters of a multi-row INSERT of pl[0..n). */
static const struct param *
insert_params(struct db *db, const struct player *pl, unsigned int n)
{
	struct param	*p = many_params(db, (size_t)n * 3);
	unsigned int	 i;

	for (i = 0; i < n; i++) {
		p[3 * i] = (struct param){ P_STR, 0, pl[i].name,
		    pl[i].namelen };
		/* NULL balances come back as they were exported. */
		p[3 * i + 1] = (struct param){ pl[i].coins_null ? P_NULL :
		    P_INT, pl[i].coins, NULL, 0 };
		p[3 * i + 2] = (struct param){ pl[i].goods_null ? P_NULL :
		    P_INT, pl[i].goods, NULL, 0 };
	}
	return p;
}

/*
 * One multi-row INSERT, applied whole or not at all; the caller decides
 * the transaction around it.
 */
int
db_insert_many(struct db *db, const struct player *pl, unsigned int n,
    char **cause)
{
	struct call	 c = { .id = ST_INSERT_MANY, .rows = n };

	c.p = insert_params(db, pl, n);
	return run(db, &c, cause);
}

/*
 * A pipelined load. Its batches go one after another, each sent without
 * waiting for the answer to the one before (a server reads its commands
 * in turn, whenever they came), and the answers are read in the order
 * sent: the next batch is on the wire while the server inserts the last,
 * as LOAD DATA streams its file. Across a link of 50 ms round trips that
 * is one round trip for all the batches instead of one each. Sending
 * without reading the answer takes MariaDB Connector/C
 * (MARIADB_OPT_SKIP_READ_RESPONSE); with another client library a load
 * waits for each batch.
 *
 * A batch sent after one that failed still runs. Had the failure ended
 * the transaction (a deadlock does), that batch would run on its own, in
 * autocommit, and be kept: so the transaction is begun by turning
 * autocommit off, and such a batch opens a new one, which the rollback
 * after the failure takes back with the rest.
 */
int
db_can_pipeline(const struct db *db)
{
#if HAVE_DECL_MARIADB_OPT_SKIP_READ_RESPONSE
	return db->my != NULL;
#else
	(void)db;
	return 0;
#endif
}

int
db_begin_pipelined(struct db *db, char **cause)
{
	struct call	 c = { .id = ST_AUTOCOMMIT_OFF, .rows = 1 };
	unsigned long long v = 0;
	unsigned int	 err;
	char		 state[sizeof db->sqlstate];
	int		 rc;

	if (db->txn != TX_NONE) {
		xasprintf(cause, "a transaction is already open");
		return DB_FAIL;
	}
	/*
	 * A batch is sized by max_allowed_packet, which cannot be asked
	 * mid-flight: when not known yet it is asked with SET autocommit = 0
	 * right behind it, one round trip for both. Whatever the answers,
	 * autocommit may be off now, so on failure it is turned on again;
	 * whether it is off is what the server's status flags say.
	 */
	if (db->max_packet == 0) {
		c.id = ST_MAX_PACKET;
		c.then = ST_AUTOCOMMIT_OFF;
		c.cb = got_id;
		c.arg = &v;
	}
	rc = run(db, &c, cause);
	if (rc == DB_OK && (db->my == NULL ||
	    (db->my->server_status & SERVER_STATUS_AUTOCOMMIT))) {
		xasprintf(cause, "the server did not turn autocommit off");
		rc = DB_FAIL;
	}
	if (rc != DB_OK) {
		err = db->err;
		memcpy(state, db->sqlstate, sizeof state);
		autocommit_back(db);
		db->err = err;
		memcpy(db->sqlstate, state, sizeof state);
		return DB_FAIL;
	}
	if (c.then != 0)
		set_max_packet(db, v);
	txn_to(db, TX_LOAD);
	/* A reconnect on the way forgot the packet's size: asked now. */
	if (db->max_packet == 0 && db_batch_fits(db, PACKET_FLOOR, cause) < 0) {
		txn_ended(db);
		return DB_FAIL;
	}
	return DB_OK;
}

/* Whether a batch of n rows has its statement (else it is prepared). */
int
db_insert_ready(const struct db *db, unsigned int n)
{
	unsigned int	i;

	for (i = 0; i < 2; i++) {
		if (db->insert_many[i].stmt != NULL &&
		    db->insert_many[i].rows == n)
			return 1;
	}
	return 0;
}

/*
 * Send a multi-row INSERT of pl[0..n) inside db_begin_pipelined's
 * transaction, without waiting: db_insert_answer reads its answer later.
 * A statement still to be prepared is prepared first, which waits, so
 * the caller reads the answers owed before that (db_insert_ready).
 */
int
db_insert_send(struct db *db, const struct player *pl, unsigned int n,
    char **cause)
{
#if HAVE_DECL_MARIADB_OPT_SKIP_READ_RESPONSE
	struct call	 c = { .id = ST_INSERT_MANY, .rows = n };
	MYSQL_STMT	*st;
	my_bool		 skip = 1;
	char		*why = NULL;
	int		 rc = -1;

	db->err = 0;
	if (refuse_interrupted(db, c.id, cause))
		return DB_FAIL;
	if (db->my == NULL || db->txn != TX_LOAD ||
	    db->pipe.n == PIPE_MAX ||
	    (db->pipe.n > 0 && !db_insert_ready(db, n))) {
		xasprintf(cause, "internal error: a batch sent out of turn");
		return DB_FAIL;
	}
	c.p = insert_params(db, pl, n);
	if ((st = statement(db, &c, &why)) != NULL) {
		mysql_options(db->my, MARIADB_OPT_SKIP_READ_RESPONSE, &skip);
		rc = execute(db, st, &c, &why);
		skip = 0;
		mysql_options(db->my, MARIADB_OPT_SKIP_READ_RESPONSE, &skip);
	}
	db->last_used = now_seconds();
	if (rc == 0) {
		db->pipe.st[(db->pipe.head + db->pipe.n++) % PIPE_MAX] = st;
		return DB_OK;
	}
	if (went(db))
		return lost(db, &c, why, cause);
	*cause = why;
	return DB_FAIL;
#else
	(void)pl;
	(void)n;
	db->err = 0;
	xasprintf(cause, "internal error: no pipelining in this build");
	return DB_FAIL;
#endif
}

/*
 * The answer to the oldest statement db_insert_send sent: DB_OK, or why
 * the server refused that batch, or that the connection went (and the
 * transaction with it). An INSERT's answer is an OK or an error packet
 * whichever protocol sent it, so it is read as a query's result is, in
 * the one wait.
 */
int
db_insert_answer(struct db *db, char **cause)
{
	struct call	 c = { .id = ST_INSERT_MANY, .rows = 1 };
	my_bool		 rc = 1;
	char		*why;

	if (db->pipe.n == 0 || db->my == NULL)
		return DB_OK;
	db->pipe.head = (db->pipe.head + 1) % PIPE_MAX;
	db->pipe.n--;
	ON_SERVER(db, mysql_read_query_result_start(&rc, db->my),
	    mysql_read_query_result_cont(&rc, db->my, ev));
	db->last_used = now_seconds();
	if (rc == 0)
		return DB_OK;
	read_error(db, NULL, &why);
	if (went(db))
		return lost(db, &c, why, cause);
	*cause = why;
	return DB_FAIL;
}

/*
 * After a failure, the answers still owed are read and dropped (each
 * batch ran or failed; the rollback takes them back); what the server
 * said of the failure is what is kept.
 */
void
db_insert_discard(struct db *db)
{
	unsigned int	 err = db->err;
	char		 state[sizeof db->sqlstate], dup[sizeof db->dup];
	char		*why;

	memcpy(state, db->sqlstate, sizeof state);
	memcpy(dup, db->dup, sizeof dup);
	if (intr_pending() > 0 && db->pipe.n > 0 && db->my != NULL) {
		/*
		 * Ctrl-C: the batches queued on the server would each still
		 * run, however slow; the connection goes instead, and the
		 * transaction with it. The next command makes a new one.
		 */
		if (kill_query(db, 1) == 0)
			(void)shutdown((int)mysql_get_socket(db->my), SHUT_RDWR);
		drop_connection(db);
		txn_lost(db);
	}
	while (db->pipe.n > 0) {
		why = NULL;
		if (db_insert_answer(db, &why) != DB_OK)
			free(why);
	}
	db->err = err;
	memcpy(db->sqlstate, state, sizeof state);
	memcpy(db->dup, dup, sizeof dup);
}

/*
 * What one row adds to a multi-row INSERT as COM_STMT_EXECUTE sends it:
 * the three parameters' types (two bytes each), the name with its length
 * (one byte below 251), two 8-byte integers, and the null bitmap's bits.
 */
size_t
db_row_bytes(const struct player *pl)
{
	return 6 + (pl->namelen < 251 ? 1 : 3) + pl->namelen + 16 + 1;
}

/*
 * Whether a multi-row INSERT of rows that take bytes (db_row_bytes) goes
 * to the server in one packet: the server refuses a larger one and drops
 * the connection. Its max_allowed_packet is read once per connection, and
 * only when a batch is large enough to need it. 1 yes, 0 no, -1 error.
 */
int
db_batch_fits(struct db *db, size_t bytes, char **cause)
{
	struct call	 c = { .id = ST_MAX_PACKET, .rows = 1, .cb = got_id };
	unsigned long long v = 0;

	bytes += PACKET_OVERHEAD;
	if (bytes <= PACKET_FLOOR)
		return 1;
	if (db->max_packet == 0) {
		c.arg = &v;
		if (run(db, &c, cause) != DB_OK)
			return -1;
		set_max_packet(db, v);
	}
	return bytes <= db->max_packet;
}

/* The players named in pl[0..n), in one round trip. */
int
db_lookup_names(struct db *db, const struct player *pl, unsigned int n,
    row_cb cb, void *arg, char **cause)
{
	struct param	*p = many_params(db, n);
	struct call	 c = { .id = ST_GET_MANY, .p = p, .rows = n, .cb = cb,
			       .arg = arg };
	unsigned int	 i;

	for (i = 0; i < n; i++)
		p[i] = (struct param){ P_STR, 0, pl[i].name, pl[i].namelen };
	return run(db, &c, cause);
}
