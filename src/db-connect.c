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
int
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
	if (check_shape(db, cause) != 0) {
		*status = EXIT_USAGE;
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
void
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
 * refused password or certificate is not. Whatever the outcome, a
 * transaction that was open is gone.
 */
int
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
int
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
	return !db->down;
}
