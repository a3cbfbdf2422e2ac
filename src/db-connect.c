/*
 * Reaching the server: the host list, the TLS policy, connecting and
 * connecting again, and whether a connection is still there.
 */
#include "config.h"

#include "db-private.h"


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
			if ((err = intr_poll(fd, POLLOUT, 2000)) != 1)
				err = err == 0 ? ETIMEDOUT : EINTR;
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

/*
 * A TLS error that is the connection going, not the certificate: the
 * other end closed, reset or stopped answering in the middle of the
 * handshake (a node failing, a proxy cutting). Nothing was verified, or
 * refused; the host is down as any other that does not answer.
 */
static int
tls_cut(const char *msg)
{
	return strstr(msg, "unexpected eof") != NULL ||
	    strstr(msg, "unexpected EOF") != NULL ||
	    strstr(msg, "timed out") != NULL ||
	    strstr(msg, "reset by peer") != NULL ||
	    strstr(msg, "Broken pipe") != NULL;
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
	if ((err == CR_AUTH_PLUGIN_CANNOT_LOAD || err == CR_SERVER_LOST) &&
	    strstr(msg, "tidb_sm3_password") != NULL) {
		/*
		 * TiDB asks for the account's own plugin (pkg/server/conn.go,
		 * handleAuthPlugin); SM3 is TiDB's alone. Connector/C says
		 * 2059, or 2013 with the plugin's name when it looked for it
		 * on disk.
		 */
		xasprintf(cause, "cannot log in as '%s' at %s:%u: the account "
		    "uses TiDB's tidb_sm3_password, which the client library "
		    "cannot speak; use an account with mysql_native_password "
		    "or caching_sha2_password (%u)", s->user, e->name, e->port,
		    err);
		return EXIT_CONNECT;
	}
	if (err == ER_BAD_DB_ERROR) {
		xasprintf(cause, "database '%s' does not exist on %s:%u (%u)",
		    s->database, e->name, e->port, err);
		return EXIT_CONNECT;
	}
	if (tls_cut(msg)) {
		/* Down, as far as the host list is concerned: try the next. */
		db->err = CR_SERVER_LOST;
		xasprintf(cause, "cannot connect to %s:%u: the connection was "
		    "lost during the TLS handshake: %s (%u)", e->name, e->port,
		    msg, err);
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

/* The options every connection to host e takes: TLS as the policy says. */
static const char *
set_options(struct db *db, const struct endpoint *e, MYSQL *my,
    char *buf, size_t size)
{
	unsigned int	 proto = MYSQL_PROTOCOL_TCP;
	my_bool		 on = 1;
	const char	*host = e->name;
	size_t		 len = strlen(host);

	mysql_options(my, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	mysql_options(my, MYSQL_OPT_PROTOCOL, &proto);
	if (len > 2 && host[0] == '[' && len - 2 < size) {
		memcpy(buf, host + 1, len - 2);
		buf[len - 2] = '\0';
		host = buf;
	}
	if (e->tls) {
		mysql_options(my, MYSQL_OPT_SSL_ENFORCE, &on);
		mysql_options(my, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &on);
		if (db->ca_file != NULL)
			mysql_options(my, MYSQL_OPT_SSL_CA, db->ca_file);
		if (db->ca_dir != NULL)
			mysql_options(my, MYSQL_OPT_SSL_CAPATH, db->ca_dir);
		mysql_options(my, MARIADB_OPT_TLS_VERSION, "TLSv1.2,TLSv1.3");
	}
	return host;
}

/*
 * One connection to host i with the policy's checks, made in the one
 * wait (io_wait): connect_timeout and Ctrl-C end it. An exit status.
 */
static int
connect_one(struct db *db, size_t i, MYSQL **out, char **cause)
{
	const struct settings	*s = db->s;
	const struct endpoint	*e = &db->hosts[i];
	MYSQL			*my, *ret = NULL;
	char			 buf[INET6_ADDRSTRLEN + 2];
	const char		*host;
	double			 limit;
	int			 status;

	if ((my = mysql_init(NULL)) == NULL)
		fatalx("out of memory");
	host = set_options(db, e, my, buf, sizeof buf);
	mysql_options(my, MYSQL_OPT_NONBLOCK, 0);
	/* The library's own bound, for the TLS handshake, which it does
	   blocking; the rest of the connect waits in io_wait. */
	mysql_options(my, MYSQL_OPT_CONNECT_TIMEOUT, &s->connect_timeout);
	limit = s->connect_timeout;
	if (db->wait_limit > 0 && (limit == 0 || db->wait_limit < limit))
		limit = db->wait_limit;
	db->connect_deadline = limit > 0 ? now_seconds() + limit : 0;
	db->gave_up = GAVE_UP_NOT;
	conn_to(db, CONN_CONNECTING);
	ASYNC(db, my, WAIT_CONNECT,
	    mysql_real_connect_start(&ret, my, host, s->user, s->password,
	    s->database, e->port, NULL, CLIENT_FOUND_ROWS),
	    mysql_real_connect_cont(&ret, my, ev));
	if (ret == NULL) {
		db->err = mysql_errno(my);
		if (db->gave_up == GAVE_UP_CANCEL) {
			xasprintf(cause, "cancelled while connecting to %s:%u",
			    e->name, e->port);
			status = EXIT_CONNECT;
		} else if (db->gave_up == GAVE_UP_TIMEOUT &&
		    strstr(mysql_error(my), "could not be loaded") != NULL) {
			/*
			 * An authentication plugin the library does not have
			 * (TiDB's tidb_sm3_password): in the non-blocking API
			 * the library says so, then waits for nothing.
			 */
			status = connect_cause(db, e, my, cause);
		} else if (db->gave_up == GAVE_UP_TIMEOUT) {
			xasprintf(cause, "cannot connect to %s:%u: timed out "
			    "(no answer within connect_timeout, %u s)", e->name,
			    e->port, s->connect_timeout);
			db->err = CR_CONN_HOST_ERROR;
			status = EXIT_CONNECT;
		} else
			status = connect_cause(db, e, my, cause);
		mysql_close(my);
		conn_to(db, CONN_NONE);
		return status;
	}
	*out = my;
	return 0;
}

/*
 * The second connection, for KILL: blocking, with short timeouts of its
 * own, to the host in use. 0, or -1 with *cause.
 */
static int
kill_connect(struct db *db, MYSQL **out, char **cause)
{
	const struct settings	*s = db->s;
	const struct endpoint	*e = &db->hosts[db->cur];
	unsigned int		 t = CANCEL_TIMEOUT;
	char			 buf[INET6_ADDRSTRLEN + 2];
	const char		*host;
	MYSQL			*my;

	if ((my = mysql_init(NULL)) == NULL)
		fatalx("out of memory");
	host = set_options(db, e, my, buf, sizeof buf);
	mysql_options(my, MYSQL_OPT_CONNECT_TIMEOUT, &t);
	mysql_options(my, MYSQL_OPT_READ_TIMEOUT, &t);
	mysql_options(my, MYSQL_OPT_WRITE_TIMEOUT, &t);
	if (mysql_real_connect(my, host, s->user, s->password, s->database,
	    e->port, NULL, 0) == NULL) {
		xasprintf(cause, "%s", mysql_error(my));
		mysql_close(my);
		return -1;
	}
	*out = my;
	return 0;
}

/* A new connection is ours: what we know of the last one is forgotten. */
static void
use_connection(struct db *db, size_t i, MYSQL *my)
{
	int	fd = (int)mysql_get_socket(my);

	/*
	 * The library leaves the socket blocking after a TLS handshake, and
	 * a blocking read would wait inside it, where no Ctrl-C and no
	 * deadline reach: every wait must be io_wait's.
	 */
	if (fd >= 0)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	db->my = my;
	db->cur = i;
	db->thread_id = mysql_thread_id(my);
	db->tidb = strstr(mysql_get_server_info(my), "TiDB") != NULL;
	db->conn_id = 0;
	db->collation[0] = '\0';
	db->max_packet = 0;
	db->last_used = now_seconds();
	db->born = db->last_used;
	conn_to(db, CONN_IDLE);
}

/*
 * Each host in turn, from host first: the first that takes us. A refused
 * password or certificate on one host ends the search (it would be refused
 * everywhere, and must be seen); a host that is down is skipped, and so is
 * one whose name does not resolve (a node taken out of the DNS). Ctrl-C
 * ends the search. Returns an exit status, with *cause each failure.
 */
static int
connect_any(struct db *db, size_t first, char **cause)
{
	MYSQL	*my = NULL;
	size_t	 k, i;
	int	 status = EXIT_CONNECT;
	char	*why, *all = NULL, *next;

	*cause = NULL;
	for (k = 0; k < db->nhosts; k++) {
		i = (first + k) % db->nhosts;
		why = NULL;
		if ((status = connect_one(db, i, &my, &why)) == 0) {
			free(all);
			use_connection(db, i, my);
			return 0;
		}
		if (all == NULL)
			all = why;
		else {
			xasprintf(&next, "%s; %s", all, why);
			free(all);
			free(why);
			all = next;
		}
		if (db->gave_up == GAVE_UP_CANCEL ||
		    (!is_transient_connect(db->err) &&
		    db->err != CR_UNKNOWN_HOST))
			break;
	}
	*cause = all;
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
	db->kill = kill_query;
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

	for (i = 0; i < NSTATEMENTS; i++) {
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
void
drop_connection(struct db *db)
{
	close_statements(db);
	if (db->my != NULL)
		mysql_close(db->my);
	db->my = NULL;
	conn_to(db, CONN_NONE);
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
	free(db->shape);
	free(db->ca_file);
	free(db->ca_dir);
	free(db->params);
	free(db->binds);
	free(db);
}

/*
 * The server went away: connect again, with the same checks, to the next
 * host of the list first (the one we were on is the likeliest to be
 * down). A server that is restarting refuses connections for a moment, so
 * those are tried again with the backoff, up to the retries setting; a
 * refused password or certificate is not, and Ctrl-C ends it all.
 * Whatever the outcome, a transaction that was open is gone. left says
 * what became of the last connection, for the notice.
 */
int
reconnect(struct db *db, const char *left, char **cause)
{
	unsigned int	 attempt;
	char		*why;

	drop_connection(db);
	txn_lost(db);
	for (attempt = 0; connect_any(db, (db->cur + 1) % db->nhosts,
	    &why) != 0; attempt++) {
		if (db->gave_up == GAVE_UP_CANCEL ||
		    !is_transient_connect(db->err) ||
		    attempt + 1 >= db->s->retries ||
		    wait_ms(db, backoff_ms(attempt)) != 0) {
			if (db->gave_up == GAVE_UP_CANCEL ||
			    intr_pending() > 0) {
				conn_to(db, CONN_CANCELLED);
				xasprintf(cause, "cancelled: no new connection "
				    "was made (%s)", why);
			} else {
				conn_to(db, CONN_DOWN);
				xasprintf(cause, "lost the connection and "
				    "could not reconnect: %s", why);
			}
			free(why);
			return -1;
		}
		free(why);
	}
	db->reconnects++;
	db_notice(db, "%s; reconnected to %s:%u (connection id %lu)", left,
	    db->hosts[db->cur].name, db->hosts[db->cur].port, db->thread_id);
	return 0;
}

/* The host in use, without asking the server anything. */
const char *
db_host(const struct db *db, unsigned int *port)
{
	*port = db->hosts[db->cur].port;
	return db->hosts[db->cur].name;
}

/* Whether a server is there to talk to (else a script stops). */
int
db_connected(const struct db *db)
{
	return db->conn != CONN_DOWN && db->conn != CONN_HUNG;
}

/* A command begins: the next statement is its first. */
void
db_between_commands(struct db *db)
{
	if (db != NULL)
		db->between = 1;
}

/*
 * connection_lifetime: before the first statement of a command, with no
 * transaction open (the user's, a command's own, or a load's), the
 * connection idle and nothing sent unanswered, a connection older than
 * that is replaced by a new one, without a word unless that fails. TiDB
 * Cloud may end a connection older than 30 minutes (docs:
 * tidb-cloud/serverless-limitations.md), and a write sent just as it does
 * would be of unknown fate; a connection that is replaced first never
 * meets it. Counted as a reconnect.
 */
int
renew_old(struct db *db, char **cause)
{
	unsigned int	 lifetime = db->s->connection_lifetime;
	int		 between = db->between;
	char		*why;

	db->between = 0;
	if (!between || lifetime == 0 || db->conn != CONN_IDLE ||
	    db->txn != TX_NONE || db->pipe.n > 0 ||
	    now_seconds() - db->born < lifetime)
		return 0;
	drop_connection(db);
	if (connect_any(db, db->cur, &why) != 0) {
		xasprintf(cause, "could not replace the connection, older than "
		    "connection_lifetime (%u s): %s", lifetime, why);
		free(why);
		return -1;
	}
	db->reconnects++;
	return 0;
}

/* The client library's version, for --version. */
const char *
db_client_version(void)
{
	return mysql_get_client_info();
}

/* At exit: what the client library holds goes. */
void
db_library_end(void)
{
	mysql_library_end();
}

/*
 * A KILL sent over the second connection: 1 when it acted, 0 when it was
 * answered with a warning, -1 when it was refused.
 */
static int
kill_sent(MYSQL *my, const char *sql, char **why)
{
	if (mysql_real_query(my, sql, strlen(sql)) != 0) {
		xasprintf(why, "%s", mysql_error(my));
		return -1;
	}
	/*
	 * TiDB without Global Kill answers a plain KILL with OK and warning
	 * 1105, and kills nothing (executeKillStmt, pkg/executor/simple.go);
	 * so does one with Global Kill for an id cut to 32 bits. A warning
	 * means it did not act.
	 */
	if (mysql_warning_count(my) > 0) {
		xasprintf(why, "the server answered '%s' with a warning and "
		    "did not act", sql);
		return 0;
	}
	return 1;
}

/*
 * KILL QUERY over a second connection, with short timeouts of its own:
 * the statement stops, we stay. With connection set, KILL CONNECTION: the
 * statements queued behind it go too, and the transaction with them. On
 * TiDB the plain KILL may do nothing (see kill_sent), and KILL TIDB is
 * tried next. 1 when the server acted.
 */
int
kill_query(struct db *db, int connection)
{
	unsigned long long id = db->conn_id;
	const char	*what = connection ? "CONNECTION" : "QUERY";
	MYSQL		*my;
	char		*cause, *why = NULL, sql[96];
	int		 killed;

	/*
	 * The id is CONNECTION_ID(), read before the statement where Ctrl-C
	 * can ask for it (learn_conn_id). Not read (a script stopping rows it
	 * no longer wants): MariaDB's and MySQL's handshake carry the whole
	 * id, TiDB's only its low 32 bits, which name no connection there.
	 */
	if (id == 0 && !db->tidb)
		id = db->thread_id;
	if (id == 0) {
		db_notice(db, "cannot cancel: the connection's id was not read");
		return 0;
	}

	if (kill_connect(db, &my, &cause) != 0) {
		db_notice(db, "cannot cancel: %s", cause);
		free(cause);
		return 0;
	}
	snprintf(sql, sizeof sql, "KILL %s %llu", what, id);
	if ((killed = kill_sent(my, sql, &why)) == 0) {
		free(why);
		why = NULL;
		snprintf(sql, sizeof sql, "KILL TIDB %s %llu", what, id);
		killed = kill_sent(my, sql, &why);
	}
	if (killed != 1)
		db_notice(db, "cannot cancel: %s", why);
	free(why);
	mysql_close(my);
	return killed == 1;
}
