/*
 * The connection to the server: the host list and the TLS policy, the
 * prepared statements, and one run path for every statement (one fetch
 * loop, one reader of errors, one reconnect, one rule for a write whose
 * fate is unknown), with the user's transaction as the server reports it.
 * The only file that calls mysql_*; it prints nothing itself.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
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

/*
 * A connection that has idled this long is pinged before it is used, in
 * case something between us and the server dropped it without a word;
 * otherwise a local look at the socket finds a closed one for free.
 */
#define IDLE_PING_SECONDS	240.0
#define BACKOFF_CAP_MS		3000.0
#define CANCEL_GRACE_SECONDS	1.0	/* after KILL QUERY, before abandoning */
#define COLLATION_MAX		64	/* information_schema's longest */
#define CANCEL_TIMEOUT		1	/* seconds, for the KILL connection */

enum shape {
	RS_NONE,
	RS_PLAYER,
	RS_COUNT,
	RS_NAME
};

/* What Ctrl-C finds: nothing, a statement to kill, or a wait to cut short. */
enum cancel_state {
	CANCEL_NONE,
	CANCEL_QUERY,
	CANCEL_WAIT
};

/* A player's columns, in the order bind_result() takes them. */
#define SELECT_PLAYERS	"SELECT id, name, coins, goods FROM `%s` "

static const struct stmt_def {
	const char	*sql;		/* %s is the table; NULL: built per
					   number of rows */
	unsigned int	 nparams;	/* per row for the multi-row ones */
	enum shape	 shape;
	int		 rerun;		/* safe to run again after a reconnect */
	int		 change;	/* changes the table */
	/*
	 * Ours, not a command's, with no parameters and at most a number to
	 * return: sent as a plain query, which spares the round trip of a
	 * prepare on a new connection.
	 */
	int		 text;
} stmt_defs[ST_COUNT_ALL] = {
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

/* A multi-row statement, prepared for one number of rows. */
struct many_stmt {
	MYSQL_STMT	*stmt;
	unsigned int	 rows;
};

/*
 * The statements sent and not yet answered, oldest first: the batches of
 * a pipelined load (see db_insert_send).
 */
#define PIPE_MAX	64
struct pipe {
	MYSQL_STMT	*st[PIPE_MAX];
	unsigned int	 head;
	unsigned int	 n;
};

/* One server of the host list, with how it is reached. */
struct endpoint {
	char		*name;
	unsigned int	 port;
	int		 tls;		/* verified TLS; else plaintext */
};

struct db {
	const struct settings	*s;
	MYSQL			*my;
	MYSQL_STMT		*stmt[ST_COUNT_ALL];
	/* Two sizes each: the full batch, and the rest. */
	struct many_stmt	 insert_many[2];
	struct many_stmt	 get_many[2];
	struct endpoint		*hosts;
	size_t			 nhosts;
	size_t			 cur;		/* the host in use */
	char			*ca_desc;	/* what verifies the server */
	char			*ca_file;
	char			*ca_dir;
	double			 last_used;
	unsigned long		 retries;
	unsigned long		 reconnects;
	unsigned long long	 conn_id;	/* CONNECTION_ID(), 0: unread */
	/* The table's collation, for status; "": not read yet. */
	char			 collation[COLLATION_MAX + 1];
	unsigned long long	 max_packet;	/* the server's; 0: unread */
	/*
	 * The parameters of the multi-row statements, kept from one batch
	 * to the next: a batch has up to 65535, and fresh pages for every
	 * one cost the client more than the rest of an import.
	 */
	struct param		*params;
	size_t			 nparams;
	MYSQL_BIND		*binds;
	size_t			 nbinds;
	unsigned long		 thread_id;	/* the handshake's, 32 bits */
	int			 want_conn_id;	/* Ctrl-C may need it */
	enum txn_state		 user;		/* the user's transaction */
	int			 ours;		/* one of ours is open */
	int			 autocommit_off; /* ours: SET autocommit = 0 */
	struct pipe		 pipe;		/* unanswered statements */
	unsigned int		 err;		/* of the last failure */
	char			 sqlstate[6];
	char			 dup[256];	/* the last 1062's message */
	int			 rolled_back;	/* ours went with the
						   connection */
	int			 down;		/* no server could be reached */
	volatile enum cancel_state cancellable;
	volatile int		 cancelled;
	volatile int		 interrupted;	/* Ctrl-C in this command */
	volatile int		 abandoned;	/* the socket was cut */
	int			 hung;		/* no answer in read_timeout */
	int			 cut;		/* dropped for not answering:
						   no new one in this command */
	volatile unsigned long	 executions;	/* statements sent */
	notice_cb		 notice;	/* db.c prints nothing itself */
	void			*notice_arg;
};

static int	prepare(struct db *, enum stmt_id, char **);
static int	txn_gone(struct db *, char *, char **);
static int	run_simple(struct db *, enum stmt_id, char **);
static void	autocommit_back(struct db *);
static void	set_max_packet(struct db *, unsigned long long);
static void	learn_conn_id(struct db *);
static int	got_id(const struct player *, void *);
static int	kill_query(struct db *, int);

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
	    err == ER_SERVER_SHUTDOWN || err == ER_CONNECTION_KILLED ||
	    err == 4031 /* disconnected by the server for inactivity */;
}

/* A server that is restarting refuses connections for a moment. */
static int
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
static int
ends_txn(unsigned int err, const char *sqlstate)
{
	return is_retryable(err) || strcmp(sqlstate, "40001") == 0;
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

/*
 * Why a TCP connection to the host failed, found by trying once more
 * ourselves: the library reports only the errno of its non-blocking
 * connect (EINPROGRESS), which says nothing.
 */
static const char *
tcp_failure(const struct endpoint *e)
{
	struct addrinfo	 hints, *res, *ai;
	struct pollfd	 pfd;
	char		 port[16];
	const char	*why = NULL;
	int		 fd, err;
	socklen_t	 len = sizeof err;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof port, "%u", e->port);
	if (getaddrinfo(e->name, port, &hints, &res) != 0)
		return "the host name does not resolve";
	for (ai = res; ai != NULL && why == NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype |
		    SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) == -1)
			continue;
		err = connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ? 0 :
		    errno;
		if (err == EINPROGRESS) {
			pfd.fd = fd;
			pfd.events = POLLOUT;
			if (poll(&pfd, 1, 2000) != 1)
				err = ETIMEDOUT;
			else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err,
			    &len) != 0)
				err = errno;
		}
		close(fd);
		if (err == ECONNREFUSED)
			why = "connection refused (is the server running, "
			    "and on that port?)";
		else if (err == ETIMEDOUT)
			why = "timed out";
		else if (err == EHOSTUNREACH || err == ENETUNREACH)
			why = "no route to host";
	}
	freeaddrinfo(res);
	return why;
}

/* Why a connection failed, in the user's words; returns the exit status. */
static int
connect_cause(struct db *db, const struct endpoint *e, MYSQL *my,
    char **cause)
{
	const struct settings	*s = db->s;
	unsigned int		 err = mysql_errno(my);
	const char		*msg = mysql_error(my), *why;

	if (err == ER_ACCESS_DENIED_ERROR) {
		xasprintf(cause, "access denied for user '%s' at %s:%u: wrong "
		    "password%s (%u)", s->user, e->name, e->port,
		    e->tls ? "" : ", or the account requires TLS (give a CA "
		    "with --ca)", err);
		return EXIT_CONNECT;
	}
	if (err == ER_BAD_DB_ERROR) {
		xasprintf(cause, "database '%s' does not exist on %s:%u (%u)",
		    s->database, e->name, e->port, err);
		return EXIT_CONNECT;
	}
	if (err == CR_SSL_CONNECTION_ERROR || strstr(msg, "SSL") != NULL ||
	    strstr(msg, "TLS") != NULL || strstr(msg, "certificate") != NULL) {
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
		    "(verified with %s): %s", e->name, e->port, why,
		    db->ca_desc, msg);
		return EXIT_TLS;
	}
	if ((err == CR_CONN_HOST_ERROR || err == CR_CONNECTION_ERROR ||
	    err == CR_UNKNOWN_HOST) && (why = tcp_failure(e)) != NULL) {
		xasprintf(cause, "cannot connect to %s:%u: %s", e->name,
		    e->port, why);
		return EXIT_CONNECT;
	}
	xasprintf(cause, "cannot connect to %s:%u: %s (%u)", e->name, e->port,
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

/* No CA given: the trust store OpenSSL would use. */
static int
system_store(struct db *db, char **cause)
{
	const char	*file, *dir;
	struct stat	 sb;

	if (db->ca_desc != NULL)
		return 0;
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
	xasprintf(&db->ca_desc, "the system trust store %s",
	    db->ca_file != NULL ? db->ca_file : db->ca_dir);
	return 0;
}

/*
 * Decide how each host is verified, before the first connection: a CA
 * given is checked once and used for every host; without one, a loopback
 * host is plaintext and any other is verified against the system store.
 */
static int
tls_policy(struct db *db, char **cause)
{
	const struct settings	*s = db->s;
	size_t			 i;

	if (s->ca != NULL && *s->ca != '\0') {
		if (s->tls != TLS_OFF && check_ca_file(s->ca, cause) != 0)
			return -1;
		db->ca_file = xstrdup(s->ca);
		xasprintf(&db->ca_desc, "%s, from %s", s->ca,
		    s->origin[K_CA]);
	}
	for (i = 0; i < db->nhosts; i++) {
		struct endpoint *e = &db->hosts[i];

		if (s->tls == TLS_OFF) {
			if (!is_loopback(e->name))
				db_notice(db, "warning: tls is off: the "
				    "password and data cross the network to %s "
				    "in plaintext", e->name);
			continue;
		}
		if (db->ca_desc == NULL && is_loopback(e->name))
			continue;
		if (system_store(db, cause) != 0)
			return -1;
		e->tls = 1;
	}
	return 0;
}

/* The host list of the settings, one endpoint each. */
static void
endpoints(struct db *db)
{
	const struct settings	*s = db->s;
	size_t			 i;

	db->nhosts = s->nhosts;
	db->hosts = xcalloc(s->nhosts, sizeof *db->hosts);
	for (i = 0; i < s->nhosts; i++) {
		db->hosts[i].name = xstrdup(s->hosts[i].name);
		db->hosts[i].port = s->hosts[i].port;
	}
}

/* One connection to host i with the policy's checks; an exit status. */
static int
connect_one(struct db *db, size_t i, unsigned int timeout,
    unsigned int read_timeout, MYSQL **out, char **cause)
{
	const struct settings	*s = db->s;
	const struct endpoint	*e = &db->hosts[i];
	MYSQL			*my;
	unsigned int		 proto = MYSQL_PROTOCOL_TCP;
	my_bool			 on = 1;
	const char		*host = e->name;
	char			 buf[INET6_ADDRSTRLEN + 2];
	size_t			 len = strlen(host);
	int			 status;

	if ((my = mysql_init(NULL)) == NULL)
		fatalx("out of memory");
	mysql_options(my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_options(my, MYSQL_OPT_PROTOCOL, &proto);
	mysql_options(my, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	if (read_timeout > 0) {
		mysql_options(my, MYSQL_OPT_READ_TIMEOUT, &read_timeout);
		mysql_options(my, MYSQL_OPT_WRITE_TIMEOUT, &read_timeout);
	}
	if (len > 2 && host[0] == '[' && len - 2 < sizeof buf) {
		memcpy(buf, host + 1, len - 2);
		buf[len - 2] = '\0';
		host = buf;
	}
	if (e->tls) {
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
	    e->port, NULL, CLIENT_FOUND_ROWS) == NULL) {
		db->err = mysql_errno(my);
		status = connect_cause(db, e, my, cause);
		mysql_close(my);
		return status;
	}
	*out = my;
	return 0;
}

/* A new connection is ours: what we know of the last one is forgotten. */
static void
use_connection(struct db *db, size_t i, MYSQL *my)
{
	db->my = my;
	db->cur = i;
	db->thread_id = mysql_thread_id(my);
	db->conn_id = 0;
	db->collation[0] = '\0';
	db->max_packet = 0;
	db->autocommit_off = 0;
	db->down = 0;
	db->abandoned = 0;
	db->hung = 0;
	db->cut = 0;
	db->last_used = now_seconds();
}

/*
 * Each host in turn, from host first: the first that takes us. A refused
 * password or certificate on one host ends the search (it would be refused
 * everywhere, and must be seen); a host that is down is skipped, and so is
 * one whose name does not resolve (a node taken out of the DNS). Returns an
 * exit status, with *cause the last host's failure.
 */
static int
connect_any(struct db *db, size_t first, char **cause)
{
	MYSQL	*my;
	size_t	 k, i;
	int	 status = EXIT_CONNECT;

	*cause = NULL;
	for (k = 0; k < db->nhosts; k++) {
		i = (first + k) % db->nhosts;
		free(*cause);
		*cause = NULL;
		if ((status = connect_one(db, i, db->s->connect_timeout,
		    db->s->read_timeout, &my, cause)) == 0) {
			use_connection(db, i, my);
			return 0;
		}
		if (!is_transient_connect(db->err) &&
		    db->err != CR_UNKNOWN_HOST)
			break;
	}
	return status;
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
	endpoints(db);
	if (tls_policy(db, cause) != 0) {
		*status = EXIT_TLS;
		db_close(db);
		return NULL;
	}
	if ((*status = connect_any(db, 0, cause)) != 0) {
		db_close(db);
		return NULL;
	}
	return db;
}

static void
close_many(struct many_stmt *m)
{
	int	i;

	for (i = 0; i < 2; i++) {
		if (m[i].stmt != NULL)
			mysql_stmt_close(m[i].stmt);
		memset(&m[i], 0, sizeof m[i]);
	}
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
	close_many(db->insert_many);
	close_many(db->get_many);
	/* Their answers went with them. */
	db->pipe.n = db->pipe.head = 0;
}

/* The connection is of no more use: statements and handle go. */
static void
drop_connection(struct db *db)
{
	close_statements(db);
	if (db->my != NULL)
		mysql_close(db->my);
	db->my = NULL;
}

void
db_close(struct db *db)
{
	size_t	i;

	if (db == NULL)
		return;
	drop_connection(db);
	for (i = 0; i < db->nhosts; i++)
		free(db->hosts[i].name);
	free(db->hosts);
	free(db->ca_desc);
	free(db->ca_file);
	free(db->ca_dir);
	free(db->params);
	free(db->binds);
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
 * The server went away: connect again, with the same checks, to the next
 * host of the list first (the one we were on is the likeliest to be
 * down). A server that is restarting refuses connections for a moment, so
 * those are tried again with the backoff, up to the retries setting; a
 * refused password or certificate is not. Whatever the outcome, a
 * transaction that was open is gone.
 */
static int
reconnect(struct db *db, char **cause)
{
	unsigned int	 attempt;
	char		*why;

	drop_connection(db);
	db->ours = 0;
	if (db->user == TXN_OPEN)
		db->user = TXN_GONE;
	for (attempt = 0; connect_any(db, (db->cur + 1) % db->nhosts,
	    &why) != 0; attempt++) {
		if (!is_transient_connect(db->err) ||
		    attempt + 1 >= db->s->retries ||
		    wait_ms(db, backoff_ms(attempt)) != 0) {
			db->down = 1;
			xasprintf(cause, "lost the connection and could not "
			    "reconnect: %s", why);
			free(why);
			return -1;
		}
		free(why);
	}
	db->reconnects++;
	db_notice(db, "the connection was lost; reconnected to %s:%u "
	    "(connection id %lu)", db->hosts[db->cur].name,
	    db->hosts[db->cur].port, db->thread_id);
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

/*
 * The one reader of server errors. Connector/C leaves some on the
 * connection handle rather than the statement (an error packet that
 * arrives while rows are fetched: a deadlock on a cluster, a cancelled
 * query), so both are read; the number is kept for the retry rules.
 */
static unsigned int
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

/* A ping waits on the server like a statement: Ctrl-C may cut it. */
static int
ping(struct db *db)
{
	int	rc;

	db->cancelled = 0;
	db->executions++;
	db->cancellable = CANCEL_QUERY;
	rc = mysql_ping(db->my);
	db->cancellable = CANCEL_NONE;
	return rc;
}

/*
 * Before a statement, make sure the connection is still there; a
 * transaction open on a connection that went is gone (the server rolled
 * it back), and carrying on would run the rest of it in autocommit. A
 * read that is safe to repeat needs no ping: if the connection has gone it
 * fails at once, and runs again after the reconnect.
 */
static int
ensure_connected(struct db *db, const struct stmt_def *def, char **cause)
{
	int	 was_user = db->user == TXN_OPEN, was_ours = db->ours;
	char	*why;

	if (db->my == NULL && db->cut) {
		/* The server just failed to answer: it would not now either. */
		xasprintf(cause, "no connection: the server did not answer");
		return -1;
	}
	if (db->my == NULL)
		return reconnect(db, cause);
	if (!looks_closed(db))
		return 0;
	if (def != NULL && def->rerun && !def->change && !was_user &&
	    !was_ours)
		return 0;
	if (ping(db) == 0) {
		db->last_used = now_seconds();
		return 0;
	}
	if (db->abandoned) {
		/* Ctrl-C, with the server not answering even a ping. */
		drop_connection(db);
		db->cut = 1;
		db->ours = 0;
		if (was_user)
			db->user = TXN_GONE;
		xasprintf(cause, "cancelled: the server did not answer, so the "
		    "connection was dropped; the next command makes a new "
		    "one%s", was_user ? "; the transaction went with it, "
		    "nothing in it was kept" : "");
		return -1;
	}
	if (!is_lost(read_error(db, NULL, &why))) {
		if (was_user && ends_txn(db->err, db->sqlstate))
			return txn_gone(db, why, cause) == DB_OK ? 0 : -1;
		*cause = why;
		return -1;
	}
	free(why);
	if (reconnect(db, &why) != 0) {
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
		db->rolled_back = was_ours;
		xasprintf(cause, "the connection was lost while a transaction "
		    "was open: the server rolled it back, nothing in it was "
		    "kept%s", was_user ? " (start again with begin)" : "");
		return -1;
	}
	db->err = 0;
	return 0;
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

/* One statement of the run path, and what came of it. */
struct call {
	enum stmt_id		 id;
	const struct param	*p;
	unsigned int		 rows;		/* of a multi-row statement */
	row_cb			 cb;
	void			*arg;
	unsigned long long	 affected;
	unsigned long long	 insert_id;
	unsigned long		 emitted;	/* rows handed to cb */
	/*
	 * A text statement sent right behind this one (a text one too),
	 * before its answer is read: two statements for one round trip. 0:
	 * none (ST_INSERT is never text).
	 */
	enum stmt_id		 then;
};

/*
 * Ctrl-C that came between two statements of a command (a bulk's batches,
 * a trade's steps) stops the statements that follow, but never the
 * ROLLBACK that undoes what went before.
 */
static int
refuse_interrupted(struct db *db, enum stmt_id id, char **cause)
{
	if (id == ST_ROLLBACK || id == ST_ROLLBACK_SAVEPOINT ||
	    !db->interrupted)
		return 0;
	db->err = ER_QUERY_INTERRUPTED;
	xasprintf(cause, "cancelled");
	return 1;
}

static MYSQL_STMT *
statement(struct db *db, const struct call *c, char **cause)
{
	if (stmt_defs[c->id].sql == NULL)
		return prepare_many(db, c->id, c->rows, cause);
	return prepare(db, c->id, cause) == 0 ? db->stmt[c->id] : NULL;
}

static int
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
 * The answer to a text statement of ours that was sent: the number it
 * returns, if any, handed to the callback as a row's id.
 */
static int
text_answer(struct db *db, struct call *c, enum stmt_id id, char **cause)
{
	struct player	 pl;
	MYSQL_RES	*res = NULL;
	MYSQL_ROW	 row = NULL;
	int		 rc;

	rc = mysql_read_query_result(db->my) != 0 ? -1 : 0;
	if (rc == 0 && stmt_defs[id].shape == RS_COUNT &&
	    ((res = mysql_store_result(db->my)) == NULL ||
	    (row = mysql_fetch_row(res)) == NULL || row[0] == NULL))
		rc = -1;
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

/*
 * A statement of ours (stmt_def.text): plain text. With c->then, both go
 * before either answer is read; the server runs them in turn whatever the
 * first one's answer, so the second must be right after a failure of the
 * first too (see db_begin_pipelined, commit_autocommit_on). The outcome is
 * the first one's; the second's answer is read all the same, so that the
 * connection stays in step, and what it did is seen in the server's
 * status flags (its number, if any, goes to the callback). A connection
 * lost after the first answer is dropped, for the next command to make a
 * new one.
 */
static int
run_text(struct db *db, struct call *c, char **cause)
{
	const char	*sql = stmt_defs[c->id].sql, *then;
	char		*why = NULL;
	int		 rc;

	db->cancelled = 0;
	db->executions++;
	db->cancellable = CANCEL_QUERY;
	rc = mysql_send_query(db->my, sql, strlen(sql));
	if (rc == 0 && c->then != 0) {
		then = stmt_defs[c->then].sql;
		if (mysql_send_query(db->my, then, strlen(then)) != 0) {
			/*
			 * The first went, and may have run: the connection is
			 * out of step, and is given up as lost.
			 */
			read_error(db, NULL, &why);
			xasprintf(cause, "%s; the connection was dropped", why);
			free(why);
			drop_connection(db);
			db->err = CR_SERVER_LOST;
			db->cancellable = CANCEL_NONE;
			return -1;
		}
	}
	if (rc != 0) {
		/* Nothing went: no answer is owed. */
		read_error(db, NULL, cause);
		db->cancellable = CANCEL_NONE;
		return -1;
	}
	rc = text_answer(db, c, c->id, cause);
	if (c->then != 0 && (rc == 0 || !is_lost(db->err))) {
		unsigned int	err = db->err;
		char		state[sizeof db->sqlstate];

		memcpy(state, db->sqlstate, sizeof state);
		if (text_answer(db, c, c->then, &why) != 0 &&
		    is_lost(db->err) && rc == 0) {
			/* The first one's answer is had: it stands. */
			drop_connection(db);
		}
		free(why);
		db->err = err;
		memcpy(db->sqlstate, state, sizeof state);
	}
	db->cancellable = CANCEL_NONE;
	db->last_used = now_seconds();
	return rc;
}

/* Run one statement once. */
static int
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
static int
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
static int
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
static int
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

/*
 * One multi-row INSERT, applied whole or not at all; the caller decides
 * the transaction around it.
 */
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

/* The packet's own bytes, and the statement's header and id. */
#define PACKET_OVERHEAD	64
/* No server takes less than this in a packet (1024 is the least). */
#define PACKET_FLOOR	1024
/* One packet of the protocol; larger ones go in pieces, which we spare. */
#define PACKET_CAP	(16UL * 1024 * 1024 - 1)

/* The parameters of a multi-row INSERT of pl[0..n). */
static const struct param *
insert_params(struct db *db, const struct player *pl, unsigned int n)
{
	struct param	*p = many_params(db, (size_t)n * 3);
	unsigned int	 i;

	for (i = 0; i < n; i++) {
		p[3 * i] = (struct param){ P_STR, 0, pl[i].name,
		    pl[i].namelen };
		p[3 * i + 1] = (struct param){ P_INT, pl[i].coins, NULL, 0 };
		p[3 * i + 2] = (struct param){ P_INT, pl[i].goods, NULL, 0 };
	}
	return p;
}

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

	if (db->user == TXN_OPEN || db->ours) {
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
	db->autocommit_off = 1;
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
	db->ours = 1;
	db->autocommit_off = 1;		/* on the connection it ran on */
	/* A reconnect on the way forgot the packet's size: asked now. */
	if (db->max_packet == 0 && db_batch_fits(db, PACKET_FLOOR, cause) < 0) {
		db->ours = 0;
		autocommit_back(db);
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
	double		 t0 = now_seconds();
	char		*why = NULL;
	int		 rc = -1;

	db->err = 0;
	if (refuse_interrupted(db, c.id, cause))
		return DB_FAIL;
	if (db->my == NULL || !db->autocommit_off ||
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
		db->cancellable = CANCEL_NONE;
	}
	db->last_used = now_seconds();
	if (rc == 0) {
		db->pipe.st[(db->pipe.head + db->pipe.n++) % PIPE_MAX] = st;
		return DB_OK;
	}
	if (is_lost(db->err))
		return lost_under(db, &c, t0, why, cause);
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
 * transaction with it).
 */
int
db_insert_answer(struct db *db, char **cause)
{
	struct call	 c = { .id = ST_INSERT_MANY, .rows = 1 };
	MYSQL_STMT	*st;
	double		 t0 = now_seconds();
	char		*why;
	int		 rc;

	if (db->pipe.n == 0 || db->my == NULL)
		return DB_OK;
	st = db->pipe.st[db->pipe.head];
	db->pipe.head = (db->pipe.head + 1) % PIPE_MAX;
	db->pipe.n--;
	db->cancelled = 0;
	db->cancellable = CANCEL_QUERY;
	rc = db->my->methods->db_read_execute_response(st);
	db->cancellable = CANCEL_NONE;
	db->last_used = now_seconds();
	if (rc == 0)
		return DB_OK;
	read_error(db, st, &why);
	if (is_lost(db->err))
		return lost_under(db, &c, t0, why, cause);
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
	if (db->interrupted && db->pipe.n > 0) {
		/*
		 * Ctrl-C: the batches queued on the server would each still
		 * run, however slow; the connection goes instead, and the
		 * transaction with it. The next command makes a new one.
		 */
		if (kill_query(db, 1) == 0)
			(void)shutdown((int)mysql_get_socket(db->my), SHUT_RDWR);
		drop_connection(db);
		db->ours = 0;
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


/* The server's max_allowed_packet, within what we send in one packet. */
static void
set_max_packet(struct db *db, unsigned long long v)
{
	db->max_packet = v < PACKET_FLOOR ? PACKET_FLOOR : v;
	if (db->max_packet > PACKET_CAP)
		db->max_packet = PACKET_CAP;
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

/*
 * Before attempt + 2 of a statement or of a whole transaction: say so,
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

static int
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

/*
 * The commit of a pipelined load, with SET autocommit = 1 right behind
 * it: one round trip for both. After a COMMIT that failed, the server has
 * rolled the transaction back (MariaDB and MySQL roll back in the commit
 * that fails, TiDB ends it), so the SET finds none to commit and only
 * turns autocommit on; the caller's ROLLBACK then has nothing left either.
 * As in autocommit_back, a session the server does not say is in
 * autocommit again is dropped.
 */
static int
commit_autocommit_on(struct db *db, char **cause)
{
	struct call	 c = { .id = ST_COMMIT, .rows = 1,
			       .then = ST_AUTOCOMMIT_ON };
	int		 rc;

	rc = run(db, &c, cause);
	if (rc == DB_OK) {
		db->autocommit_off = 0;
		if (db->my != NULL &&
		    !(db->my->server_status & SERVER_STATUS_AUTOCOMMIT))
			drop_connection(db);
	} else if (rc != DB_FAIL)
		autocommit_back(db);
	return rc;
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
	if (db->autocommit_off && db_can_pipeline(db)) {
		rc = commit_autocommit_on(db, &why);
		if (rc != DB_OK)
			*cause = why;
		if (rc != DB_FAIL) {
			db->ours = 0;
			db->user = TXN_NONE;
		}
		return rc;
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

/* The host in use, without asking the server anything. */
const char *
db_host(const struct db *db, unsigned int *port)
{
	*port = db->hosts[db->cur].port;
	return db->hosts[db->cur].name;
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

/* Whether a server is there to talk to (else a script stops). */
int
db_connected(const struct db *db)
{
	return !db->down;
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

/* Ctrl-C came during this command. */
int
db_interrupted(const struct db *db)
{
	return db->interrupted;
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

static int
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

static void
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

void
db_want_cancel(struct db *db)
{
	db->want_conn_id = 1;
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

/* A new command: a Ctrl-C that came before it is not for it. */
void
db_cancel_reset(struct db *db)
{
	db->interrupted = 0;
	db->cut = 0;
}

/*
 * Give up on the running statement: cut the socket under it, so that the
 * blocked read returns at once, whatever the server does. The statement
 * fails as a lost connection (a write in flight may or may not have been
 * applied), and the next command connects again.
 */
void
db_abandon(struct db *db)
{
	MYSQL	*my = db->my;

	if (my == NULL || db->cancellable != CANCEL_QUERY)
		return;
	db->abandoned = 1;
	(void)shutdown((int)mysql_get_socket(my), SHUT_RDWR);
}

/*
 * Called from the signal watcher thread: stop the running statement with
 * KILL QUERY over a second connection, which gets short timeouts of its
 * own; the session itself goes on. When the server does not answer either
 * (it hangs), the statement is abandoned: one Ctrl-C always gives the
 * prompt back within a couple of seconds.
 */
/*
 * KILL QUERY over a second connection: the statement stops, we stay. With
 * connection set, KILL CONNECTION: the statements queued behind it go
 * too, and the transaction with them.
 */
static int
kill_query(struct db *db, int connection)
{
	unsigned long long id = db->conn_id != 0 ? db->conn_id : db->thread_id;
	MYSQL		*my;
	char		*cause, sql[64];
	int		 killed = 0;

	if (connect_one(db, db->cur, CANCEL_TIMEOUT, CANCEL_TIMEOUT, &my,
	    &cause) != 0) {
		db_notice(db, "cannot cancel: %s", cause);
		free(cause);
		return 0;
	}
	snprintf(sql, sizeof sql, "KILL %s %llu", connection ? "CONNECTION" :
	    "QUERY", id);
	if (mysql_real_query(my, sql, strlen(sql)) != 0)
		db_notice(db, "cannot cancel: %s", mysql_error(my));
	else
		killed = 1;
	mysql_close(my);
	return killed;
}

void
db_cancel(struct db *db)
{
	unsigned long	 gen = db->executions;
	double		 end;
	int		 killed;

	db->interrupted = 1;
	if (db->cancellable == CANCEL_NONE)
		return;
	db->cancelled = 1;
	if (db->cancellable == CANCEL_WAIT)
		return;		/* nothing runs on the server */
	mysql_thread_init();
	killed = kill_query(db, 0);
	mysql_thread_end();
	end = now_seconds() + (killed ? CANCEL_GRACE_SECONDS : 0);
	while (db->cancellable == CANCEL_QUERY && db->executions == gen &&
	    now_seconds() < end)
		(void)poll(NULL, 0, 20);
	if (db->cancellable == CANCEL_QUERY && db->executions == gen)
		db_abandon(db);
}
