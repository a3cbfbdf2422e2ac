/*
 * The ground floor of the connection: its two states and their only
 * writers, the notices, and what the server's errors mean. Everything
 * above (waiting, connecting, the run path) changes the states only
 * through conn_to() and txn_to().
 */
#include "config.h"

#include "db-private.h"

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

/*
 * Before attempt + 2: what the failed attempt met, err, kept by the caller
 * when it failed (db->err may have changed since: a rollback, a
 * reconnect). A lost connection is not the server's error, nor is any
 * other of the client library's (2000-2999).
 */
void
retry_notice(struct db *db, unsigned int err, unsigned int attempt)
{
	if (is_lost(err) && (err < 2000 || err > 2999))
		db_notice(db, "the server ended the connection (%u), retrying "
		    "(attempt %u of %u)", err, attempt + 2, db->s->retries);
	else if (is_lost(err))
		db_notice(db, "the connection was lost (%u), retrying (attempt "
		    "%u of %u)", err, attempt + 2, db->s->retries);
	else if (err >= 2000 && err <= 2999)
		db_notice(db, "client error %u, retrying (attempt %u of %u)",
		    err, attempt + 2, db->s->retries);
	else
		db_notice(db, "server error %u, retrying (attempt %u of %u)",
		    err, attempt + 2, db->s->retries);
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
int
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
	case ER_TXN_TOO_OLD:
		xasprintf(cause, "the transaction was open longer than the "
		    "server allows (TiDB's max-txn-ttl; 30 minutes on "
		    "Serverless): nothing in it was kept (%u)", err);
		break;
	default:
		xasprintf(cause, "server error %u (%s): %s", err, state, msg);
		break;
	}
	return err;
}

static const char *const conn_names[] = {
	[CONN_NONE] = "none", [CONN_CONNECTING] = "connecting",
	[CONN_IDLE] = "idle", [CONN_BUSY] = "busy",
	[CONN_CANCELLING] = "cancelling", [CONN_CANCELLED] = "cancelled",
	[CONN_HUNG] = "hung", [CONN_DOWN] = "down"
};

/*
 * The connection's one writer. What may follow what, in one table: a
 * change not in it is a mistake of ours, said as such, never silently
 * taken.
 */
void
conn_to(struct db *db, enum conn_state to)
{
#define B(s)	(1u << (s))
	static const unsigned int allowed[] = {
		[CONN_NONE] = B(CONN_NONE) | B(CONN_CONNECTING) |
		    B(CONN_DOWN) | B(CONN_CANCELLED) | B(CONN_HUNG),
		[CONN_CONNECTING] = B(CONN_IDLE) | B(CONN_NONE),
		[CONN_IDLE] = B(CONN_BUSY) | B(CONN_NONE),
		[CONN_BUSY] = B(CONN_IDLE) | B(CONN_CANCELLING) |
		    B(CONN_NONE),
		[CONN_CANCELLING] = B(CONN_IDLE) | B(CONN_NONE),
		[CONN_CANCELLED] = B(CONN_NONE),
		[CONN_HUNG] = B(CONN_NONE),
		[CONN_DOWN] = B(CONN_NONE) | B(CONN_CONNECTING),
	};
#undef B

	if (!(allowed[db->conn] & (1u << to)))
		db_notice(db, "internal error: connection %s -> %s",
		    conn_names[db->conn], conn_names[to]);
	db->conn = to;
}

/* A wait on the server begins: Ctrl-C and read_timeout may end it. */
void
busy_begin(struct db *db)
{
	db->gave_up = GAVE_UP_NOT;
	conn_to(db, CONN_BUSY);
}

/* And has ended, answered or not. */
void
busy_end(struct db *db)
{
	if (db->conn == CONN_BUSY || db->conn == CONN_CANCELLING)
		conn_to(db, CONN_IDLE);
}

/*
 * The transaction's one writer. The user's transaction ends only by the
 * user's commit or rollback, or as gone; ours only by its command.
 */
void
txn_to(struct db *db, enum txn to)
{
	static const char *const names[] = {
		[TX_NONE] = "none", [TX_USER] = "user",
		[TX_USER_GONE] = "user, gone", [TX_OURS] = "ours",
		[TX_LOAD] = "a load's"
	};
	int	ok;

	switch (db->txn) {
	case TX_NONE:
		ok = to != TX_USER_GONE;
		break;
	case TX_USER:
		ok = to == TX_NONE || to == TX_USER_GONE;
		break;
	case TX_USER_GONE:
		ok = to == TX_NONE || to == TX_USER_GONE || to == TX_USER;
		break;
	default:
		ok = to == TX_NONE;
		break;
	}
	if (!ok)
		db_notice(db, "internal error: transaction %s -> %s",
		    names[db->txn], names[to]);
	db->txn = to;
}

/* The connection went: what was open on it is gone. */
void
txn_lost(struct db *db)
{
	if (db->txn == TX_USER)
		txn_to(db, TX_USER_GONE);
	else if (db->txn == TX_OURS || db->txn == TX_LOAD)
		txn_to(db, TX_NONE);
}

int
db_in_txn(const struct db *db)
{
	return db->txn == TX_USER;
}

/* The user's transaction, as the prompt and status show it. */
enum txn_state
db_txn(const struct db *db)
{
	switch (db->txn) {
	case TX_USER:
		return TXN_OPEN;
	case TX_USER_GONE:
		return TXN_GONE;
	default:
		return TXN_NONE;
	}
}

/*
 * Whether the last failure may be retried as a whole transaction: a
 * retryable error, or our transaction lost with a connection that came back
 * (the server rolled it back, so nothing of it was applied).
 */
/* The server's max_allowed_packet, within what we send in one packet. */
void
set_max_packet(struct db *db, unsigned long long v)
{
	db->max_packet = v < PACKET_FLOOR ? PACKET_FLOOR : v;
	if (db->max_packet > PACKET_CAP)
		db->max_packet = PACKET_CAP;
}

/* The error of the last failure (0: none). */
unsigned int
db_last_error(const struct db *db)
{
	return db->err;
}

int
db_last_retryable(const struct db *db)
{
	return is_retryable(db->err) || db->ours_lost;
}

/*
 * Whether the last failure was one of TiDB's limits on one transaction:
 * 8004 (txn-total-size-limit), 8025 (an entry too large), 9500 (the same,
 * before v4), and, since v6.5, when txn-total-size-limit no longer applies
 * by default, the memory quota a large transaction runs into: 8175 (the
 * statement's, tidb_mem_quota_query) and 8176 (the instance's,
 * tidb_server_memory_limit). pkg/errno/errname.go.
 */
int
db_last_too_large(const struct db *db)
{
	switch (db->err) {
	case 8004:
	case 8025:
	case 9500:
	case 8175:
	case 8176:
		return 1;
	}
	return 0;
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
