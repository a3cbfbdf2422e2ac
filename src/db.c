/*
 * The connection to the server: TLS policy, the prepared statements,
 * retries on the errors a distributed database asks clients to retry, and
 * reconnects that never replay a write whose fate is unknown. The only file
 * that calls mysql_*.
 */
#include "config.h"

#include <sys/stat.h>

#include <arpa/inet.h>

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "tidbplay.h"

/* A connection idle for longer than this is pinged before it is used. */
#define IDLE_PING_SECONDS	1.0
#define BACKOFF_CAP_MS		3000.0

enum shape {
	RS_NONE,
	RS_PLAYER,
	RS_COUNT,
	RS_NAME
};

/* The most parameters a statement of the table takes (a trade's UPDATE). */
#define STMT_MAX_PARAMS	8

static const struct stmt_def {
	const char	*sql;		/* %s is the table */
	unsigned int	 nparams;
	enum shape	 shape;
	int		 rerun;		/* safe to run again after a reconnect */
} stmt_defs[ST_COUNT_ALL] = {
	[ST_INSERT] = { "INSERT INTO `%s` (name, coins, goods) "
	    "VALUES (?, ?, ?)", 3, RS_NONE, 0 },
	[ST_GET] = { "SELECT id, name, coins, goods FROM `%s` "
	    "WHERE name = ?", 1, RS_PLAYER, 1 },
	[ST_GET_ID] = { "SELECT id, name, coins, goods FROM `%s` "
	    "WHERE id = ?", 1, RS_PLAYER, 1 },
	/* A trade's two rows, locked in one deterministic order. */
	[ST_LOCK_PAIR] = { "SELECT id, name, coins, goods FROM `%s` "
	    "WHERE name IN (?, ?) ORDER BY id FOR UPDATE", 2, RS_PLAYER, 0 },
	[ST_SET_COINS] = { "UPDATE `%s` SET coins = ? WHERE name = ?",
	    2, RS_NONE, 1 },
	[ST_SET_GOODS] = { "UPDATE `%s` SET goods = ? WHERE name = ?",
	    2, RS_NONE, 1 },
	[ST_ADD_COINS] = { "UPDATE `%s` SET coins = coins + ? "
	    "WHERE name = ? AND coins + ? BETWEEN 0 AND 2147483647",
	    3, RS_NONE, 0 },
	[ST_ADD_GOODS] = { "UPDATE `%s` SET goods = goods + ? "
	    "WHERE name = ? AND goods + ? BETWEEN 0 AND 2147483647",
	    3, RS_NONE, 0 },
	[ST_DELETE] = { "DELETE FROM `%s` WHERE name = ?", 1, RS_NONE, 0 },
	[ST_COUNT] = { "SELECT COUNT(*) FROM `%s`", 0, RS_COUNT, 1 },
	[ST_LIST] = { "SELECT id, name, coins, goods FROM `%s` "
	    "ORDER BY id LIMIT ? OFFSET ?", 2, RS_PLAYER, 1 },
	[ST_LIST_ALL] = { "SELECT id, name, coins, goods FROM `%s` "
	    "ORDER BY id", 0, RS_PLAYER, 1 },
	[ST_FIND] = { "SELECT id, name, coins, goods FROM `%s` "
	    "WHERE name LIKE ? ESCAPE '!' ORDER BY name, id", 1, RS_PLAYER,
	    1 },
	[ST_TOP_COINS] = { "SELECT id, name, coins, goods FROM `%s` "
	    "ORDER BY coins DESC, id LIMIT ?", 1, RS_PLAYER, 1 },
	[ST_TOP_GOODS] = { "SELECT id, name, coins, goods FROM `%s` "
	    "ORDER BY goods DESC, id LIMIT ?", 1, RS_PLAYER, 1 },
	[ST_RENAME] = { "UPDATE `%s` SET name = ? WHERE name = ?",
	    2, RS_NONE, 0 },
	[ST_NAMES] = { "SELECT name FROM `%s` WHERE name LIKE ? ESCAPE '!' "
	    "ORDER BY name LIMIT ?", 2, RS_NAME, 1 },
	/*
	 * Both sides of a trade in one single-table UPDATE (buyer id, price,
	 * price, buyer id, amount, amount, buyer id, seller id): no
	 * multi-table UPDATE, where TiDB has given wrong results.
	 */
	[ST_TRADE] = { "UPDATE `%s` SET "
	    "coins = CASE id WHEN ? THEN coins - ? ELSE coins + ? END, "
	    "goods = CASE id WHEN ? THEN goods + ? ELSE goods - ? END "
	    "WHERE id IN (?, ?)", 8, RS_NONE, 0 },
	[ST_BEGIN] = { "START TRANSACTION", 0, RS_NONE, 1 },
	[ST_COMMIT] = { "COMMIT", 0, RS_NONE, 0 },
	[ST_ROLLBACK] = { "ROLLBACK", 0, RS_NONE, 0 },
};

/*
 * The multi-row insert, and the look-up of many players by name, are
 * prepared for each batch size in use.
 */
struct batch_stmt {
	MYSQL_STMT	*stmt;
	unsigned int	 rows;
	MYSQL_BIND	*bind;
};

struct db {
	const struct settings	*s;
	MYSQL			*my;
	MYSQL_STMT		*stmt[ST_COUNT_ALL];
	struct batch_stmt	 batch[2];
	struct batch_stmt	 lookup[2];
	char			*ca_desc;	/* what verifies the server */
	char			*ca_file;
	char			*ca_dir;
	int			 tls;		/* TLS in use */
	double			 last_used;
	unsigned long		 retries;
	unsigned long		 reconnects;
	unsigned long		 thread_id;
	int			 txn;		/* 0, 1 ours, 2 the user's */
	unsigned int		 err;
	unsigned int		 connect_err;	/* of the last connect_one */
	int			 rolled_back;	/* our transaction went with
						   the connection */
	volatile int		 cancellable;	/* CANCEL_* */
	volatile int		 cancelled;
	volatile int		 interrupted;	/* Ctrl-C in this command */
	notice_cb		 notice;	/* db.c prints nothing itself */
	void			*notice_arg;
};

/* What Ctrl-C finds: nothing, a statement to kill, or a wait to cut short. */
#define CANCEL_NONE	0
#define CANCEL_QUERY	1
#define CANCEL_WAIT	2

static int	prepare(struct db *, enum stmt_id, char **);

static void
db_notice(struct db *db, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Something the user should hear while a command runs. */
static void
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
static int
is_lost(unsigned int err)
{
	return err == CR_SERVER_GONE_ERROR || err == CR_SERVER_LOST ||
	    err == CR_SSL_CONNECTION_ERROR ||
	    err == 2055 /* CR_SERVER_LOST_EXTENDED */ ||
	    err == 1053 /* ER_SERVER_SHUTDOWN */ ||
	    err == 1927 /* ER_CONNECTION_KILLED */ ||
	    err == 4031 /* disconnected by the server for inactivity */;
}

/* A server that is restarting refuses connections for a moment. */
static int
is_transient_connect(unsigned int err)
{
	return err == CR_CONNECTION_ERROR || err == CR_CONN_HOST_ERROR ||
	    err == CR_SERVER_LOST || err == CR_SERVER_GONE_ERROR ||
	    err == 1053 /* ER_SERVER_SHUTDOWN */ ||
	    err == 1040 /* ER_CON_COUNT_ERROR */;
}

/* The errors TiDB (and InnoDB) ask a client to retry. */
static int
is_retryable(unsigned int err)
{
	switch (err) {
	case 1213:	/* deadlock */
	case 1205:	/* lock wait timeout */
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
 * Loopback is an address, not a spelling: an IPv4 literal in 127.0.0.0/8,
 * ::1, or localhost (which the library takes to the local socket). A name
 * such as 127.example.net is a name like any other, and gets TLS.
 */
static int
is_loopback(const char *host)
{
	struct in_addr	 a4;
	struct in6_addr	 a6;
	char		 buf[INET6_ADDRSTRLEN + 2];
	size_t		 len = strlen(host);

	if (strcmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (len > 2 && host[0] == '[' && host[len - 1] == ']' &&
	    len - 2 < sizeof buf) {
		memcpy(buf, host + 1, len - 2);
		buf[len - 2] = '\0';
		host = buf;
	}
	return inet_pton(AF_INET6, host, &a6) == 1 &&
	    IN6_IS_ADDR_LOOPBACK(&a6);
}

/* Why a connection failed, in the user's words; returns the exit status. */
static int
connect_cause(struct db *db, MYSQL *my, char **cause)
{
	const struct settings	*s = db->s;
	unsigned int		 err = mysql_errno(my);
	const char		*msg = mysql_error(my);

	if (err == ER_ACCESS_DENIED_ERROR) {
		xasprintf(cause, "access denied for user '%s' at %s:%u: wrong "
		    "password%s (%u)", s->user, s->host, s->port,
		    db->tls ? "" : ", or the account requires TLS (give a CA "
		    "with --ca)", err);
		return EXIT_CONNECT;
	}
	if (err == ER_BAD_DB_ERROR) {
		xasprintf(cause, "database '%s' does not exist on %s:%u (%u)",
		    s->database, s->host, s->port, err);
		return EXIT_CONNECT;
	}
	if (err == CR_SSL_CONNECTION_ERROR || strstr(msg, "SSL") != NULL ||
	    strstr(msg, "TLS") != NULL || strstr(msg, "certificate") != NULL) {
		const char *why;

		if (strstr(msg, "doesn't support") != NULL ||
		    strstr(msg, "not support") != NULL ||
		    strstr(msg, "is required") != NULL)
			why = "the server offers no TLS, and tidbplay never "
			    "sends the password in plaintext to it (use "
			    "--tls off only on a network you trust)";
		else if (strstr(msg, "expired") != NULL)
			why = "the server's certificate has expired";
		else if (strstr(msg, "hostname") != NULL ||
		    strstr(msg, "host name") != NULL ||
		    strstr(msg, "mismatch") != NULL ||
		    strstr(msg, "Validation of SSL server certificate") != NULL)
			why = "the server's certificate does not name the host";
		else if (strstr(msg, "issuer") != NULL ||
		    strstr(msg, "self-signed") != NULL ||
		    strstr(msg, "self signed") != NULL ||
		    strstr(msg, "verify failed") != NULL)
			why = "the server's certificate is not signed by a "
			    "trusted CA";
		else
			why = "the TLS handshake failed";
		xasprintf(cause, "TLS verification of %s:%u failed: %s "
		    "(verified with %s): %s", s->host, s->port, why,
		    db->ca_desc, msg);
		return EXIT_TLS;
	}
	xasprintf(cause, "cannot connect to %s:%u: %s (%u)", s->host, s->port,
	    msg, err);
	return EXIT_CONNECT;
}

/* Check that a CA file is there and holds at least one PEM certificate. */
static int
check_ca_file(const char *path, char **cause)
{
	FILE		*f;
	X509		*x;
	struct stat	 sb;

	if ((f = fopen(path, "r")) == NULL) {
		const char *sys = getenv(X509_get_default_cert_file_env());

		if (sys == NULL)
			sys = X509_get_default_cert_file();
		xasprintf(cause, "CA file %s: %s (leave the CA empty to use "
		    "the system store, %s)", path, strerror(errno), sys);
		return -1;
	}
	/* fopen() opens a directory; reading it then fails obscurely. */
	if (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode)) {
		fclose(f);
		xasprintf(cause, "CA file %s is a directory, not a PEM file",
		    path);
		return -1;
	}
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (x == NULL) {
		xasprintf(cause, "CA file %s holds no PEM certificate", path);
		return -1;
	}
	X509_free(x);
	return 0;
}

/* Decide how the server is verified, before the first connection. */
static int
tls_policy(struct db *db, char **cause)
{
	const struct settings	*s = db->s;
	const char		*file, *dir;
	struct stat		 sb;

	if (s->tls == TLS_OFF) {
		db->tls = 0;
		if (!is_loopback(s->host))
			db_notice(db, "warning: tls is off: the password and "
			    "data cross the network to %s in plaintext",
			    s->host);
		return 0;
	}
	if (s->ca != NULL && *s->ca != '\0') {
		if (check_ca_file(s->ca, cause) != 0)
			return -1;
		db->tls = 1;
		db->ca_file = xstrdup(s->ca);
		xasprintf(&db->ca_desc, "%s, from %s", s->ca,
		    s->origin[K_CA]);
		return 0;
	}
	if (is_loopback(s->host)) {
		db->tls = 0;
		return 0;
	}
	/* No CA given: the trust store OpenSSL would use. */
	file = getenv(X509_get_default_cert_file_env());
	if (file == NULL)
		file = X509_get_default_cert_file();
	dir = getenv(X509_get_default_cert_dir_env());
	if (dir == NULL)
		dir = X509_get_default_cert_dir();
	if (stat(file, &sb) == 0)
		db->ca_file = xstrdup(file);
	if (stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode))
		db->ca_dir = xstrdup(dir);
	if (db->ca_file == NULL && db->ca_dir == NULL) {
		xasprintf(cause, "no CA given and no system trust store at %s "
		    "or %s: install ca-certificates or give --ca", file, dir);
		return -1;
	}
	db->tls = 1;
	xasprintf(&db->ca_desc, "the system trust store %s",
	    db->ca_file != NULL ? db->ca_file : db->ca_dir);
	return 0;
}

/* One connection with the policy's TLS checks; returns an exit status. */
static int
connect_one(struct db *db, MYSQL **out, char **cause)
{
	const struct settings	*s = db->s;
	MYSQL			*my;
	unsigned int		 proto = MYSQL_PROTOCOL_TCP;
	unsigned int		 timeout = s->connect_timeout;
	my_bool			 on = 1;
	const char		*host = s->host;
	int			 status;

	if ((my = mysql_init(NULL)) == NULL)
		fatalx("out of memory");
	mysql_options(my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_options(my, MYSQL_OPT_PROTOCOL, &proto);
	mysql_options(my, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	if (strcmp(host, "[::1]") == 0)
		host = "::1";
	if (db->tls) {
#if HAVE_DECL_MYSQL_OPT_SSL_ENFORCE
		mysql_options(my, MYSQL_OPT_SSL_ENFORCE, &on);
		mysql_options(my, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &on);
#elif HAVE_DECL_SSL_MODE_VERIFY_IDENTITY
		{
			unsigned int mode = SSL_MODE_VERIFY_IDENTITY;

			(void)on;
			mysql_options(my, MYSQL_OPT_SSL_MODE, &mode);
		}
#else
#error "no way to make the client library verify TLS"
#endif
		if (db->ca_file != NULL)
			mysql_options(my, MYSQL_OPT_SSL_CA, db->ca_file);
		if (db->ca_dir != NULL)
			mysql_options(my, MYSQL_OPT_SSL_CAPATH, db->ca_dir);
#if HAVE_DECL_MARIADB_OPT_TLS_VERSION
		mysql_options(my, MARIADB_OPT_TLS_VERSION, "TLSv1.2,TLSv1.3");
#endif
	}
	if (mysql_real_connect(my, host, s->user, s->password, s->database,
	    s->port, NULL, CLIENT_FOUND_ROWS) == NULL) {
		db->connect_err = mysql_errno(my);
		status = connect_cause(db, my, cause);
		mysql_close(my);
		return status;
	}
	*out = my;
	return 0;
}

struct db *
db_open(const struct settings *s, notice_cb notice, void *arg, int *status,
    char **cause)
{
	struct db	*db;

	db = xcalloc(1, sizeof *db);
	db->s = s;
	db->notice = notice;
	db->notice_arg = arg;
	if (tls_policy(db, cause) != 0) {
		*status = EXIT_TLS;
		db_close(db);
		return NULL;
	}
	if ((*status = connect_one(db, &db->my, cause)) != 0) {
		db_close(db);
		return NULL;
	}
	db->thread_id = mysql_thread_id(db->my);
	db->last_used = now_seconds();
	return db;
}

static void
close_statements(struct db *db)
{
	int	i;

	for (i = 0; i < ST_COUNT_ALL; i++) {
		if (db->stmt[i] != NULL)
			mysql_stmt_close(db->stmt[i]);
		db->stmt[i] = NULL;
	}
	for (i = 0; i < 4; i++) {
		struct batch_stmt *b = i < 2 ? &db->batch[i] :
		    &db->lookup[i - 2];

		if (b->stmt != NULL)
			mysql_stmt_close(b->stmt);
		free(b->bind);
		memset(b, 0, sizeof *b);
	}
}

void
db_close(struct db *db)
{
	if (db == NULL)
		return;
	close_statements(db);
	if (db->my != NULL)
		mysql_close(db->my);
	free(db->ca_desc);
	free(db->ca_file);
	free(db->ca_dir);
	free(db);
}

/* TiDB's backoff: (1.5^n + rand) x 100 ms, capped. */
static double
backoff_ms(unsigned int attempt)
{
	double	ms;

	ms = (pow(1.5, attempt) + (double)random() / RAND_MAX) * 100.0;
	return ms > BACKOFF_CAP_MS ? BACKOFF_CAP_MS : ms;
}

/*
 * Wait ms milliseconds, or less if Ctrl-C comes: the watcher thread finds
 * CANCEL_WAIT, has nothing to kill on the server and only marks us
 * cancelled. The wait goes in short slices so that the mark is seen soon,
 * and so that a signal that interrupts nanosleep before the watcher has
 * run (or any other signal) only ends a slice.
 */
static int
wait_ms(struct db *db, double ms)
{
	struct timespec	ts;
	double		end, left;

	if (db->interrupted)
		return -1;
	end = now_seconds() + ms / 1000.0;
	db->cancelled = 0;
	db->cancellable = CANCEL_WAIT;
	while (!db->cancelled && (left = end - now_seconds()) > 0) {
		if (left > 0.05)
			left = 0.05;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(left * 1e9);
		(void)nanosleep(&ts, NULL);
	}
	db->cancellable = CANCEL_NONE;
	return db->cancelled ? -1 : 0;
}

/*
 * The server went away: connect again, with the same checks. A server
 * that is restarting refuses connections for a moment, so those are tried
 * again with the backoff, up to the retries setting; a refused password or
 * certificate is not.
 */
static int
reconnect(struct db *db, char **cause)
{
	MYSQL		*my;
	char		*why;
	unsigned int	 attempt;

	close_statements(db);
	if (db->my != NULL)
		mysql_close(db->my);
	db->my = NULL;
	db->txn = 0;
	for (attempt = 0; connect_one(db, &my, &why) != 0; attempt++) {
		if (!is_transient_connect(db->connect_err) ||
		    attempt + 1 >= db->s->retries ||
		    wait_ms(db, backoff_ms(attempt)) != 0) {
			xasprintf(cause, "lost the connection and could not "
			    "reconnect: %s", why);
			free(why);
			return -1;
		}
		free(why);
	}
	db->my = my;
	db->thread_id = mysql_thread_id(my);
	db->reconnects++;
	db->last_used = now_seconds();
	db_notice(db, "the connection was lost; reconnected (connection id "
	    "%lu)", db->thread_id);
	return 0;
}

/*
 * Connecting again failed (why says how); when a transaction was open, say
 * what became of it too.
 */
static void
reconnect_failed(int was_txn, char *why, char **cause)
{
	if (was_txn == 0) {
		*cause = why;
		return;
	}
	xasprintf(cause, "the connection was lost while a transaction was "
	    "open: the server rolls it back, nothing in it is kept; %s", why);
	free(why);
}

/*
 * Before using a connection that has idled, make sure it is still there
 * (TiDB Serverless and wait_timeout close idle ones). A transaction open on
 * a connection that went is gone: the server rolled it back, and carrying
 * on would run the rest of it in autocommit.
 */
static int
ensure_connected(struct db *db, char **cause)
{
	int	 was_txn = db->txn;
	char	*why;

	if (db->my == NULL)
		return reconnect(db, cause);
	if (now_seconds() - db->last_used < IDLE_PING_SECONDS)
		return 0;
	if (mysql_ping(db->my) == 0) {
		db->last_used = now_seconds();
		return 0;
	}
	db->err = mysql_errno(db->my);
	if (!is_lost(db->err)) {
		xasprintf(cause, "server error %u: %s", db->err,
		    mysql_error(db->my));
		return -1;
	}
	if (reconnect(db, &why) != 0) {
		reconnect_failed(was_txn, why, cause);
		return -1;
	}
	if (was_txn != 0) {
		db->rolled_back = was_txn == 1;
		xasprintf(cause, "the connection was lost while a transaction "
		    "was open: the server rolled it back, nothing in it was "
		    "kept%s", was_txn == 2 ? " (start again with begin)" : "");
		return -1;
	}
	db->err = 0;
	return 0;
}

static void
stmt_error(struct db *db, MYSQL_STMT *st, char **cause)
{
	unsigned int	 err = mysql_stmt_errno(st);
	const char	*msg = mysql_stmt_error(st);
	const char	*state = mysql_stmt_sqlstate(st);

	/*
	 * An error that arrives while the rows are fetched (a lock wait
	 * timeout or deadlock in SELECT ... FOR UPDATE, a KILL) is left on
	 * the connection by Connector/C, not on the statement.
	 */
	if (err == 0 && mysql_errno(db->my) != 0) {
		err = mysql_errno(db->my);
		msg = mysql_error(db->my);
		state = mysql_sqlstate(db->my);
	}

	db->err = err;
	switch (err) {
	case ER_DUP_ENTRY:
		xasprintf(cause, "a player with that name already exists: %s "
		    "(%u)", msg, err);
		break;
	case 1317:	/* ER_QUERY_INTERRUPTED */
		xasprintf(cause, "cancelled; the statement was rolled back");
		break;
	default:
		xasprintf(cause, "server error %u (%s): %s", err, state, msg);
		break;
	}
}

static MYSQL_STMT *
prepare_sql(struct db *db, const char *sql, unsigned int nparams,
    char **cause)
{
	MYSQL_STMT	*st;
	int		 tries;
	char		*ddl;

	for (tries = 0; tries < 2; tries++) {
		if ((st = mysql_stmt_init(db->my)) == NULL)
			fatalx("out of memory");
		if (mysql_stmt_prepare(st, sql, strlen(sql)) == 0)
			break;
		if (mysql_stmt_errno(st) != ER_NO_SUCH_TABLE || tries > 0) {
			stmt_error(db, st, cause);
			mysql_stmt_close(st);
			return NULL;
		}
		mysql_stmt_close(st);
		/* Created on first use, exactly as the quickstart does. */
		xasprintf(&ddl, "CREATE TABLE IF NOT EXISTS `%s` (id INTEGER "
		    "NOT NULL AUTO_INCREMENT, name VARCHAR(32), coins INTEGER, "
		    "goods INTEGER, PRIMARY KEY (id), UNIQUE (name))",
		    db->s->table);
		if (mysql_real_query(db->my, ddl, strlen(ddl)) != 0) {
			db->err = mysql_errno(db->my);
			xasprintf(cause, "cannot create table %s: %s (%u)",
			    db->s->table, mysql_error(db->my), db->err);
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

static int
prepare(struct db *db, enum stmt_id id, char **cause)
{
	const struct stmt_def	*def = &stmt_defs[id];
	const char		*mark;
	char			*sql;

	if (db->stmt[id] != NULL)
		return 0;
	if (def->nparams > STMT_MAX_PARAMS)
		fatalx("statement takes more than %d parameters: %s",
		    STMT_MAX_PARAMS, def->sql);
	if ((mark = strstr(def->sql, "%s")) != NULL)
		xasprintf(&sql, "%.*s%s%s", (int)(mark - def->sql), def->sql,
		    db->s->table, mark + 2);
	else
		sql = xstrdup(def->sql);
	db->stmt[id] = prepare_sql(db, sql, def->nparams, cause);
	free(sql);
	return db->stmt[id] == NULL ? -1 : 0;
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

#define CB_INTERRUPTED	(-2)	/* not a row callback's own -1 */

/*
 * Ctrl-C that came between two statements of a command (a bulk's batches,
 * a trade's steps) stops the statements that follow, but never the
 * ROLLBACK that undoes what went before.
 */
static int
refuse_interrupted(struct db *db, int refuse, char **cause)
{
	if (!refuse || !db->interrupted)
		return 0;
	db->err = 1317;		/* ER_QUERY_INTERRUPTED */
	xasprintf(cause, "cancelled");
	return 1;
}

/*
 * Run one statement once. Rows stream through cb as they arrive, so a
 * result of any size takes constant memory. *emitted counts them.
 */
static int
run_once(struct db *db, enum stmt_id id, const struct param *p, row_cb cb,
    void *arg, unsigned long long *affected, unsigned long long *insert_id,
    unsigned long *emitted, char **cause)
{
	const struct stmt_def	*def = &stmt_defs[id];
	MYSQL_STMT		*st;
	MYSQL_BIND		 pb[STMT_MAX_PARAMS], rb[4];
	struct player		 pl;
	my_bool			 nulls[4];
	int			 rc, cbrc = 0;

	if (refuse_interrupted(db, id != ST_ROLLBACK, cause))
		return -1;
	if (prepare(db, id, cause) != 0)
		return -1;
	st = db->stmt[id];
	if (def->nparams > 0) {
		bind_params(pb, p, def->nparams);
		if (mysql_stmt_bind_param(st, pb) != 0) {
			stmt_error(db, st, cause);
			return -1;
		}
	}
	db->cancelled = 0;
	db->cancellable = 1;
	rc = mysql_stmt_execute(st);
	db->last_used = now_seconds();
	if (rc != 0) {
		db->cancellable = 0;
		stmt_error(db, st, cause);
		return -1;
	}
	if (def->shape == RS_NONE) {
		db->cancellable = 0;
		if (affected != NULL)
			*affected = mysql_stmt_affected_rows(st);
		if (insert_id != NULL)
			*insert_id = mysql_stmt_insert_id(st);
		return 0;
	}
	memset(&pl, 0, sizeof pl);
	bind_result(rb, def->shape, &pl, nulls);
	if (mysql_stmt_bind_result(st, rb) != 0) {
		db->cancellable = 0;
		stmt_error(db, st, cause);
		mysql_stmt_free_result(st);
		return -1;
	}
	while ((rc = mysql_stmt_fetch(st)) == 0 || rc == MYSQL_DATA_TRUNCATED) {
		pl.name_null = nulls[1];
		pl.coins_null = nulls[2];
		pl.goods_null = nulls[3];
		if (pl.namelen >= sizeof pl.name)
			pl.namelen = sizeof pl.name - 1;
		pl.name[pl.namelen] = '\0';
		(*emitted)++;
		/*
		 * Ctrl-C after the server has sent everything (KILL QUERY
		 * finds nothing running) still stops the rows shown; the
		 * rest is read and dropped.
		 */
		if (cbrc == 0 && db->interrupted)
			cbrc = CB_INTERRUPTED;
		if (cbrc == 0 && cb != NULL)
			cbrc = cb(&pl, arg);
	}
	db->cancellable = 0;
	db->last_used = now_seconds();
	if (rc == 1) {
		stmt_error(db, st, cause);
		mysql_stmt_free_result(st);
		return -1;
	}
	mysql_stmt_free_result(st);
	if (cbrc == CB_INTERRUPTED) {
		db->err = 1317;		/* ER_QUERY_INTERRUPTED */
		xasprintf(cause, "cancelled; the rest of the rows were not "
		    "shown");
		return -1;
	}
	if (cbrc != 0) {
		xasprintf(cause, "cannot write the result: %s",
		    strerror(errno));
		db->err = 0;
		return -1;
	}
	return 0;
}

/*
 * Before attempt + 2 of what (a statement, or a whole transaction): say so,
 * count it, and wait. Ctrl-C during the wait gives up.
 */
int
db_backoff(struct db *db, unsigned int attempt, char **cause)
{
	db->retries++;
	db_notice(db, "server error %u, retrying (attempt %u of %u)", db->err,
	    attempt + 2, db->s->retries);
	if (wait_ms(db, backoff_ms(attempt)) != 0) {
		xasprintf(cause, "cancelled while waiting to retry; nothing "
		    "was changed");
		return -1;
	}
	return 0;
}

/*
 * A retryable error inside the user's transaction: the server may already
 * have rolled all of it back (a deadlock does), and retrying one statement
 * of it would be wrong, so it is rolled back entirely and the user told.
 */
static int
txn_gone(struct db *db, char *why, char **cause)
{
	unsigned int	err = db->err;

	db_rollback(db, NULL);
	db->err = err;
	xasprintf(cause, "%s; the transaction is gone: it was rolled back, "
	    "nothing in it was kept (start again with begin)", why);
	free(why);
	return DB_FAIL;
}

#define RUN_AGAIN	1

/*
 * The connection went while statement id was running: connect again and
 * work out what that means. Returns RUN_AGAIN when the statement is safe to
 * repeat (a read that had not yet returned rows, an absolute set), else the
 * command's result with *cause set.
 */
static int
after_lost(struct db *db, enum stmt_id id, unsigned long emitted, char *why,
    char **cause)
{
	const struct stmt_def	*def = &stmt_defs[id];
	unsigned int		 err = db->err;
	int			 was_txn = db->txn;
	int			 write = def->shape == RS_NONE && !def->rerun;
	char			*rwhy;

	free(why);
	if (reconnect(db, &rwhy) != 0) {
		db->err = err;
		if (id == ST_COMMIT || (write && was_txn == 0)) {
			xasprintf(cause, "the connection was lost while the "
			    "%s was sent: it may or may not have been "
			    "applied; %s", id == ST_COMMIT ? "commit" :
			    "change", rwhy);
			free(rwhy);
			return DB_UNKNOWN;
		}
		reconnect_failed(was_txn, rwhy, cause);
		return DB_FAIL;
	}
	db->err = err;
	if (id == ST_COMMIT) {
		xasprintf(cause, "the connection was lost while the commit was "
		    "sent: the transaction may or may not have been "
		    "committed");
		return DB_UNKNOWN;
	}
	if (id == ST_ROLLBACK) {
		/* What was asked for: the server drops it with the session. */
		db->err = 0;
		return DB_OK;
	}
	if (was_txn != 0) {
		db->rolled_back = was_txn == 1;
		xasprintf(cause, "the connection was lost inside a transaction: "
		    "the server rolled it back, nothing in it was kept%s",
		    was_txn == 2 ? " (start again with begin)" : "");
		return DB_FAIL;
	}
	if (def->rerun && emitted == 0)
		return RUN_AGAIN;
	if (def->shape != RS_NONE) {
		xasprintf(cause, "the connection was lost while rows were "
		    "arriving; run it again");
		return DB_FAIL;
	}
	xasprintf(cause, "the connection was lost while the change was sent: "
	    "it may or may not have been applied");
	return DB_UNKNOWN;
}

/*
 * Run a statement with the retry and reconnect rules: autocommit statements
 * are retried on the retryable errors; inside a transaction they are not
 * (ours is retried whole by the caller, the user's is gone); after a
 * reconnect only statements that are safe to repeat run again, and a write
 * whose fate is unknown is reported as such, never repeated.
 */
static int
run(struct db *db, enum stmt_id id, const struct param *p, row_cb cb,
    void *arg, unsigned long long *affected, unsigned long long *insert_id,
    char **cause)
{
	unsigned int	 attempt = 0, reruns = 0;
	unsigned long	 emitted;
	char		*why;
	int		 rc;

	db->err = 0;
	db->rolled_back = 0;
	if (ensure_connected(db, cause) != 0)
		return DB_FAIL;
	for (;;) {
		emitted = 0;
		if (run_once(db, id, p, cb, arg, affected, insert_id, &emitted,
		    &why) == 0)
			return DB_OK;
		if (is_lost(db->err)) {
			rc = after_lost(db, id, emitted, why, cause);
			if (rc != RUN_AGAIN)
				return rc;
			/* A server that keeps dropping us is not waited on. */
			if (++reruns >= db->s->retries) {
				xasprintf(cause, "the connection was lost %u "
				    "times in a row", reruns);
				return DB_FAIL;
			}
			continue;
		}
		if (!is_retryable(db->err) || emitted != 0) {
			*cause = why;
			return DB_FAIL;
		}
		if (db->txn == 2)
			return txn_gone(db, why, cause);
		if (db->txn != 0) {
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
	return run(db, id, p, NULL, NULL, affected, insert_id, cause);
}

int
db_rows(struct db *db, enum stmt_id id, const struct param *p, row_cb cb,
    void *arg, char **cause)
{
	return run(db, id, p, cb, arg, NULL, NULL, cause);
}

/*
 * The statement for a batch of rows: INSERT ... VALUES (?,?,?),... or, for
 * a look-up, SELECT ... WHERE name IN (?,...). Two slots each: the first
 * (full) batch size, and the rest.
 */
static struct batch_stmt *
batch_prepare(struct db *db, int lookup, unsigned int rows, char **cause)
{
	struct batch_stmt	*slot = lookup ? db->lookup : db->batch, *b;
	const char		*one = lookup ? "?" : "(?,?,?)";
	unsigned int		 i, per = lookup ? 1 : 3;
	char			*sql, *w;
	size_t			 len;

	for (i = 0; i < 2; i++) {
		if (slot[i].stmt != NULL && slot[i].rows == rows)
			return &slot[i];
	}
	b = slot[0].stmt == NULL ? &slot[0] : &slot[1];
	if (b->stmt != NULL)
		mysql_stmt_close(b->stmt);
	free(b->bind);
	memset(b, 0, sizeof *b);

	len = 96 + strlen(db->s->table) + (size_t)rows * 10;
	sql = w = xmalloc(len);
	if (lookup)
		w += snprintf(w, len, "SELECT id, name, coins, goods FROM `%s` "
		    "WHERE name IN (", db->s->table);
	else
		w += snprintf(w, len, "INSERT INTO `%s` (name, coins, goods) "
		    "VALUES ", db->s->table);
	for (i = 0; i < rows; i++) {
		if (i > 0)
			*w++ = ',';
		memcpy(w, one, strlen(one));
		w += strlen(one);
	}
	if (lookup)
		*w++ = ')';
	*w = '\0';
	b->stmt = prepare_sql(db, sql, rows * per, cause);
	free(sql);
	if (b->stmt == NULL)
		return NULL;
	b->rows = rows;
	b->bind = xcalloc((size_t)rows * per, sizeof *b->bind);
	return b;
}

/* One multi-row INSERT; the caller decides the transaction around it. */
int
db_insert_many(struct db *db, const struct player *pl, unsigned int n,
    char **cause)
{
	struct batch_stmt	*b;
	MYSQL_BIND		*bind;
	unsigned int		 i;

	db->err = 0;
	db->rolled_back = 0;
	if (ensure_connected(db, cause) != 0)
		return DB_FAIL;
	if ((b = batch_prepare(db, 0, n, cause)) == NULL)
		goto fail;
	bind = b->bind;
	for (i = 0; i < n; i++) {
		bind[3 * i].buffer_type = MYSQL_TYPE_STRING;
		bind[3 * i].buffer = (void *)pl[i].name;
		bind[3 * i].buffer_length = pl[i].namelen;
		bind[3 * i + 1].buffer_type = MYSQL_TYPE_LONGLONG;
		bind[3 * i + 1].buffer = (void *)&pl[i].coins;
		bind[3 * i + 2].buffer_type = MYSQL_TYPE_LONGLONG;
		bind[3 * i + 2].buffer = (void *)&pl[i].goods;
	}
	if (mysql_stmt_bind_param(b->stmt, bind) != 0) {
		stmt_error(db, b->stmt, cause);
		goto fail;
	}
	if (refuse_interrupted(db, 1, cause))
		return DB_FAIL;
	db->cancelled = 0;
	db->cancellable = 1;
	if (mysql_stmt_execute(b->stmt) != 0) {
		db->cancellable = 0;
		stmt_error(db, b->stmt, cause);
		goto fail;
	}
	db->cancellable = 0;
	db->last_used = now_seconds();
	return DB_OK;

fail:
	if (is_lost(db->err)) {
		unsigned int	 err = db->err;
		int		 was_txn = db->txn;
		char		*why;

		free(*cause);
		*cause = NULL;
		if (reconnect(db, &why) != 0) {
			*cause = why;
			return DB_FAIL;
		}
		db->err = err;
		if (was_txn == 0) {
			/* One statement, applied whole or not at all. */
			xasprintf(cause, "the connection was lost while %u "
			    "rows were sent: they may or may not have been "
			    "added", n);
			return DB_UNKNOWN;
		}
		/* A transaction's batch went with the transaction. */
		db->rolled_back = was_txn == 1;
		xasprintf(cause, "the connection was lost during a batch "
		    "insert: the server rolled its transaction back, nothing "
		    "in it was kept%s", was_txn == 2 ? " (start again with "
		    "begin)" : "");
	} else if (is_retryable(db->err) && db->txn == 2) {
		char *why = *cause;

		return txn_gone(db, why, cause);
	}
	return DB_FAIL;
}

/*
 * The players named in pl[0..n), in one round trip: the ids of the rows a
 * multi-row insert just added, which need not be consecutive.
 */
int
db_lookup_names(struct db *db, const struct player *pl, unsigned int n,
    row_cb cb, void *arg, char **cause)
{
	struct batch_stmt	*b;
	struct player		 row;
	MYSQL_BIND		 rb[4];
	my_bool			 nulls[4];
	unsigned int		 i;
	int			 rc;

	db->err = 0;
	if (ensure_connected(db, cause) != 0)
		return DB_FAIL;
	if ((b = batch_prepare(db, 1, n, cause)) == NULL)
		return DB_FAIL;
	for (i = 0; i < n; i++) {
		b->bind[i].buffer_type = MYSQL_TYPE_STRING;
		b->bind[i].buffer = (void *)pl[i].name;
		b->bind[i].buffer_length = pl[i].namelen;
	}
	if (mysql_stmt_bind_param(b->stmt, b->bind) != 0 ||
	    mysql_stmt_execute(b->stmt) != 0) {
		stmt_error(db, b->stmt, cause);
		return DB_FAIL;
	}
	memset(&row, 0, sizeof row);
	bind_result(rb, RS_PLAYER, &row, nulls);
	if (mysql_stmt_bind_result(b->stmt, rb) != 0) {
		stmt_error(db, b->stmt, cause);
		mysql_stmt_free_result(b->stmt);
		return DB_FAIL;
	}
	while ((rc = mysql_stmt_fetch(b->stmt)) == 0 ||
	    rc == MYSQL_DATA_TRUNCATED) {
		row.name_null = nulls[1];
		row.coins_null = nulls[2];
		row.goods_null = nulls[3];
		if (row.namelen >= sizeof row.name)
			row.namelen = sizeof row.name - 1;
		row.name[row.namelen] = '\0';
		cb(&row, arg);
	}
	db->last_used = now_seconds();
	if (rc == 1) {
		stmt_error(db, b->stmt, cause);
		mysql_stmt_free_result(b->stmt);
		return DB_FAIL;
	}
	mysql_stmt_free_result(b->stmt);
	return DB_OK;
}

/* user: the user's begin (never retried) rather than one of ours. */
int
db_begin(struct db *db, int user, char **cause)
{
	if (db->txn != 0) {
		xasprintf(cause, "a transaction is already open");
		return DB_FAIL;
	}
	if (run(db, ST_BEGIN, NULL, NULL, NULL, NULL, NULL, cause) != DB_OK)
		return DB_FAIL;
	db->txn = user ? 2 : 1;
	return DB_OK;
}

int
db_commit(struct db *db, char **cause)
{
	int	rc;

	if (db->txn == 0) {
		xasprintf(cause, "no transaction is open");
		return DB_FAIL;
	}
	rc = run(db, ST_COMMIT, NULL, NULL, NULL, NULL, NULL, cause);
	/* A commit the server refused leaves the transaction to end here. */
	if (rc == DB_FAIL && db->txn != 0) {
		unsigned int err = db->err;

		db_rollback(db, NULL);
		db->err = err;
	}
	db->txn = 0;
	return rc;
}

int
db_rollback(struct db *db, char **cause)
{
	unsigned int	 err = db->err;
	int		 rolled_back = db->rolled_back;
	char		*why = NULL;
	int		 rc;

	if (db->txn == 0) {
		if (cause != NULL)
			xasprintf(cause, "no transaction is open");
		return DB_FAIL;
	}
	rc = run(db, ST_ROLLBACK, NULL, NULL, NULL, NULL, NULL, &why);
	db->txn = 0;
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
	return db->txn == 2;
}

enum txn_state
db_txn(const struct db *db)
{
	return db->txn == 2 ? TXN_OPEN : TXN_NONE;
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

unsigned int
db_retries(const struct db *db)
{
	return db->s->retries;
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
	if (ensure_connected(db, &cause) != 0) {
		db_notice(db, "%s", cause);
		free(cause);
	}
	info->host = db->s->host;
	info->port = db->s->port;
	info->user = db->s->user;
	info->database = db->s->database;
	info->retries = db->retries;
	info->reconnects = db->reconnects;
	info->thread_id = db->thread_id;
	if (db->my == NULL)
		return;
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
	if (db->tls) {
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

/* A new command: a Ctrl-C that came before it is not for it. */
void
db_cancel_reset(struct db *db)
{
	db->interrupted = 0;
}

/*
 * Called from the signal watcher thread: stop the running statement with
 * KILL QUERY over a second connection; the session itself goes on.
 */
void
db_cancel(struct db *db)
{
	MYSQL	*my;
	char	*cause, sql[64];

	db->interrupted = 1;
	if (db->cancellable == CANCEL_NONE)
		return;
	db->cancelled = 1;
	if (db->cancellable == CANCEL_WAIT)
		return;		/* nothing runs on the server */
	mysql_thread_init();
	if (connect_one(db, &my, &cause) != 0) {
		db_notice(db, "cannot cancel: %s", cause);
		free(cause);
		mysql_thread_end();
		return;
	}
	snprintf(sql, sizeof sql, "KILL QUERY %lu", db->thread_id);
	if (mysql_real_query(my, sql, strlen(sql)) != 0)
		db_notice(db, "cannot cancel: %s", mysql_error(my));
	mysql_close(my);
	mysql_thread_end();
}
