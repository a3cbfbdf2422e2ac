/*
 * Settings: built-in defaults < INI file < .env file < environment <
 * command line. Each layer goes through settings_set(), which checks the
 * value and remembers where it came from.
 */
#include "config.h"

#include <sys/stat.h>

#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ini.h>

#include "tidbplay.h"
#include "output.h"

/* How a value is checked and where it is stored. */
enum kind {
	V_TEXT,		/* a string; flags say more */
	V_INT,		/* an integer from min to max, an unsigned int */
	V_BOOL,		/* on or off, an int */
	V_TLS,		/* enum tls_mode */
	V_FORMAT,	/* enum format */
	V_HOSTS		/* the host list, and host */
};

#define F_NONEMPTY	0x1	/* V_TEXT: not empty */
#define F_SECRET	0x2	/* V_TEXT: wiped when replaced */
#define F_IDENT		0x4	/* V_TEXT: an SQL identifier */
#define F_SWITCH	0x8	/* V_TEXT: on and off words are normalised */

#define TEXT_MAX	4096
#define XSTR(x)		STR(x)
#define STR(x)		#x

#define OFF(field)	offsetof(struct settings, field)

static const struct keyword {
	const char	*section;
	const char	*name;
	const char	*dotenv;	/* the quickstart's .env name */
	enum setting_key key;
	enum kind	 kind;
	size_t		 offset;	/* of the value in struct settings */
	const char	*init;		/* the default, as text; NULL: none */
	int		 flags;
	long long	 min;		/* V_INT */
	long long	 max;
	const char	*unit;		/* V_INT: what the number counts */
} keywords[] = {
	{ "connection", "host", "TIDB_HOST", K_HOST, V_HOSTS, OFF(host),
	  "127.0.0.1", 0, 0, 0, NULL },
	{ "connection", "port", "TIDB_PORT", K_PORT, V_INT, OFF(port),
	  "4000", 0, 1, 65535, "a number" },
	{ "connection", "user", "TIDB_USER", K_USER, V_TEXT, OFF(user),
	  "root", F_NONEMPTY, 0, 0, NULL },
	{ "connection", "password", "TIDB_PASSWORD", K_PASSWORD, V_TEXT,
	  OFF(password), "", F_SECRET, 0, 0, NULL },
	{ "connection", "database", "TIDB_DB_NAME", K_DATABASE, V_TEXT,
	  OFF(database), "test", F_NONEMPTY, 0, 0, NULL },
	{ "connection", "ca", "CA_PATH", K_CA, V_TEXT, OFF(ca), NULL, 0, 0,
	  0, NULL },
	{ "connection", "tls", NULL, K_TLS, V_TLS, OFF(tls), "verify", 0, 0,
	  0, NULL },
	{ "connection", "connect_timeout", NULL, K_CONNECT_TIMEOUT, V_INT,
	  OFF(connect_timeout), "10", 0, 1, 3600, "seconds" },
	{ "connection", "read_timeout", NULL, K_READ_TIMEOUT, V_INT,
	  OFF(read_timeout), XSTR(READ_TIMEOUT_DEFAULT), 0, 0, 86400,
	  "seconds" },
	/*
	 * Below the 30 minutes after which TiDB Cloud may end a connection
	 * (docs: tidb-cloud/serverless-limitations.md; the pools it
	 * recommends live about 5 minutes).
	 */
	{ "connection", "connection_lifetime", NULL, K_CONNECTION_LIFETIME,
	  V_INT, OFF(connection_lifetime), "1500", 0, 0, 86400 * 365,
	  "seconds" },
	{ "shell", "table", NULL, K_TABLE, V_TEXT, OFF(table), "players",
	  F_IDENT, 0, 0, NULL },
	{ "shell", "format", NULL, K_FORMAT, V_FORMAT, OFF(format), NULL, 0,
	  0, 0, NULL },
	{ "shell", "history", NULL, K_HISTORY, V_TEXT, OFF(history), NULL, 0,
	  0, 0, NULL },
	{ "shell", "timing", NULL, K_TIMING, V_BOOL, OFF(timing), "off", 0,
	  0, 0, NULL },
	{ "shell", "retries", NULL, K_RETRIES, V_INT, OFF(retries), "5", 0,
	  1, 100, "attempts" },
	{ "shell", "batch", NULL, K_BATCH, V_INT, OFF(batch), "1000", 0, 1,
	  BATCH_ROWS_MAX, "rows" },
	{ "shell", "pager", NULL, K_PAGER, V_TEXT, OFF(pager), "on",
	  F_NONEMPTY | F_SWITCH, 0, 0, NULL },
	{ "shell", "prompt", NULL, K_PROMPT, V_TEXT, OFF(prompt), NULL, 0, 0,
	  0, NULL },
};
#define NKEYWORDS (sizeof keywords / sizeof keywords[0])

static const struct keyword *
keyword_of(enum setting_key key)
{
	size_t	i;

	for (i = 0; i < NKEYWORDS; i++) {
		if (keywords[i].key == key)
			return &keywords[i];
	}
	fatalx("no keyword for setting %d", (int)key);
}

int
settings_key_lookup(const char *name)
{
	size_t	i;

	for (i = 0; i < NKEYWORDS; i++) {
		if (strcmp(keywords[i].name, name) == 0)
			return keywords[i].key;
	}
	return -1;
}

static void
set_string(char **dst, const char *v, int secret)
{
	if (secret)
		freezero_str(*dst);
	else
		free(*dst);
	*dst = xstrdup(v);
}

/* Every setting from its default; those without one are NULL or 0. */
void
settings_init(struct settings *s)
{
	size_t	 i;
	char	*cause;

	memset(s, 0, sizeof *s);
	s->format = FMT_AUTO;
	for (i = 0; i < NKEYWORDS; i++) {
		if (keywords[i].init != NULL && settings_set(s,
		    keywords[i].key, keywords[i].init, "default",
		    TRUST_DEFAULT, &cause) != 0)
			fatalx("the default %s: %s", keywords[i].name, cause);
	}
	for (i = 0; i < K_COUNT; i++) {
		if (s->origin[i] == NULL)
			s->origin[i] = xstrdup("default");
		s->trust[i] = TRUST_DEFAULT;
	}
}

static void
free_hosts(struct host *hosts, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(hosts[i].name);
	free(hosts);
}

/* The strings a settings owns, freed in one place. */
void
settings_free(struct settings *s)
{
	const struct keyword	*kw;
	char			**p;
	size_t			 i;

	for (i = 0; i < NKEYWORDS; i++) {
		kw = &keywords[i];
		if (kw->kind != V_TEXT && kw->kind != V_HOSTS)
			continue;
		p = (char **)((char *)s + kw->offset);
		if (kw->flags & F_SECRET)
			freezero_str(*p);
		else
			free(*p);
	}
	free_hosts(s->hosts, s->nhosts);
	for (i = 0; i < K_COUNT; i++)
		free(s->origin[i]);
	memset(s, 0, sizeof *s);
}

static int
parse_bool(const char *v, int *out)
{
	static const char *yes[] = { "on", "true", "yes", "1" };
	static const char *no[] = { "off", "false", "no", "0" };
	size_t	i;

	for (i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

static int
check_identifier(const char *v)
{
	size_t	i, len = strlen(v);

	if (len == 0 || len > TABLE_MAX)
		return -1;
	for (i = 0; i < len; i++) {
		if (!isalnum((unsigned char)v[i]) && v[i] != '_')
			return -1;
	}
	return 0;
}

/* A host name: no blanks, no control characters, no brackets. */
static int
check_host_name(const char *v, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if ((unsigned char)v[i] <= ' ' || v[i] == 0x7f ||
		    v[i] == '[' || v[i] == ']')
			return -1;
	}
	return 0;
}

static int
is_ipv6(const char *v, size_t len)
{
	struct in6_addr	 a;
	char		 buf[INET6_ADDRSTRLEN + 1];

	if (len >= sizeof buf)
		return 0;
	memcpy(buf, v, len);
	buf[len] = '\0';
	return inet_pton(AF_INET6, buf, &a) == 1;
}

/*
 * One entry of the host list, e[0..len): HOST, HOST:PORT, [ADDR] or
 * [ADDR]:PORT for an IPv6 address, or a bare IPv6 address.
 */
static int
parse_host(const char *e, size_t len, struct host *h, char **cause)
{
	const char	*name = e, *colon, *end;
	size_t		 namelen;
	long long	 n;
	char		*port;
	int		 ilen = (int)len;

	if (*e == '[') {
		if ((end = memchr(e, ']', len)) == NULL) {
			xasprintf(cause, "bad host '%.*s': no ']' after the "
			    "IPv6 address", ilen, e);
			return -1;
		}
		name = e + 1;
		namelen = end - name;
		colon = end + 1 < e + len ? end + 1 : NULL;
		if (colon != NULL && *colon != ':') {
			xasprintf(cause, "bad host '%.*s': only ':PORT' may "
			    "follow ']'", ilen, e);
			return -1;
		}
		if (!is_ipv6(name, namelen)) {
			xasprintf(cause, "bad host '%.*s': [] holds an IPv6 "
			    "address", ilen, e);
			return -1;
		}
	} else {
		colon = memchr(e, ':', len);
		namelen = colon == NULL ? len : (size_t)(colon - e);
		if (colon != NULL && memchr(colon + 1, ':',
		    len - namelen - 1) != NULL) {
			if (!is_ipv6(e, len)) {
				xasprintf(cause, "bad host '%.*s': write an "
				    "IPv6 address with a port as [ADDR]:PORT",
				    ilen, e);
				return -1;
			}
			colon = NULL;
			namelen = len;
		} else if (namelen == 0 || namelen > 255 ||
		    check_host_name(e, namelen) != 0) {
			xasprintf(cause, "bad host '%.*s': a name of 1 to 255 "
			    "bytes without blanks or brackets, or an address",
			    ilen, e);
			return -1;
		}
	}
	h->port = 0;
	if (colon != NULL) {
		port = xstrndup(colon + 1, e + len - colon - 1);
		if (parse_int_arg(port, 1, 65535, &n) != 0) {
			xasprintf(cause, "bad port in host '%.*s': a number "
			    "from 1 to 65535", ilen, e);
			free(port);
			return -1;
		}
		free(port);
		h->port = (unsigned int)n;
	}
	h->name = xstrndup(name, namelen);
	return 0;
}

/* The host setting: a comma-separated list of entries, blanks around. */
static int
set_hosts(struct settings *s, const char *v, char **cause)
{
	struct host	*hosts;
	const char	*p, *e, *end, *next;
	size_t		 n = 1, i;

	for (p = v; *p != '\0'; p++)
		n += *p == ',';
	if (n > HOSTS_MAX) {
		xasprintf(cause, "too many hosts (%zu): at most %d", n,
		    HOSTS_MAX);
		return -1;
	}
	hosts = xcalloc(n, sizeof *hosts);
	for (i = 0, p = v; i < n; i++, p = next) {
		if ((end = strchr(p, ',')) == NULL)
			end = p + strlen(p);
		next = *end == ',' ? end + 1 : end;
		for (e = p; e < end && (*e == ' ' || *e == '\t'); e++)
			;
		while (end > e && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (e == end) {
			if (n == 1)
				xasprintf(cause, "host is empty");
			else
				xasprintf(cause, "host list '%s': entry %zu "
				    "is empty", v, i + 1);
			goto fail;
		}
		if (parse_host(e, end - e, &hosts[i], cause) != 0)
			goto fail;
	}
	free_hosts(s->hosts, s->nhosts);
	s->hosts = hosts;
	s->nhosts = n;
	set_string(&s->host, hosts[0].name, 0);
	return 0;

fail:
	free_hosts(hosts, n);
	return -1;
}

/* What to do about a setting that came from too weak a source. */
static void
trust_advice(const struct settings *s, enum setting_key key, int ask,
    char **cause)
{
	static const char	*opt[] = { [K_HOST] = "-H", [K_PORT] = "-P",
	    [K_USER] = "-u" };
	const char		*name = keyword_of(key)->name;
	const char		*from = s->origin[key];
	const char		*colon = strrchr(from, ':');
	int			 flen = (int)strlen(from);

	if (s->trust[key] != TRUST_ENVIRON && colon != NULL)
		flen = (int)(colon - from);
	if (s->trust[key] == TRUST_ENVIRON)
		xasprintf(cause, "the %s comes from %s but the password from "
		    "%s: give %s, or the password in TIDB_PASSWORD instead of "
		    "-p", name, from, ask ? "the -p prompt" :
		    s->origin[K_PASSWORD], opt[key]);
	else
		xasprintf(cause, "the %s comes from %s but the password from "
		    "%s: give %s, or put the password in %.*s", name, from,
		    ask ? "the -p prompt" : s->origin[K_PASSWORD], opt[key],
		    flen, from);
}

/*
 * A password goes only to a host, port and user named by a source at least
 * as trusted as the password's, so that a .env planted in a directory
 * cannot steer it elsewhere.
 */
static int
check_trust(const struct settings *s, int ask, char **cause)
{
	static const enum setting_key	 keys[] = { K_HOST, K_PORT, K_USER };
	enum trust			 pw;
	size_t				 i;

	/*
	 * The -p prompt names the host and where it came from: the user who
	 * types the password there has seen where it goes.
	 */
	if (ask || *s->password == '\0')
		return 0;		/* nothing to give away unseen */
	pw = s->trust[K_PASSWORD];
	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		if (s->trust[keys[i]] < pw) {
			trust_advice(s, keys[i], ask, cause);
			return -1;
		}
	}
	return 0;
}

/*
 * After the last layer: an entry without a port takes the port setting,
 * host and port are the first entry's, and the password may go there (ask:
 * it will be asked for at the terminal).
 */
int
settings_finish(struct settings *s, int ask, char **cause)
{
	size_t	i;

	for (i = 0; i < s->nhosts; i++) {
		if (s->hosts[i].port == 0)
			s->hosts[i].port = s->port;
	}
	if (s->hosts[0].port != s->port) {
		s->port = s->hosts[0].port;
		free(s->origin[K_PORT]);
		s->origin[K_PORT] = xstrdup(s->origin[K_HOST]);
		s->trust[K_PORT] = s->trust[K_HOST];
	}
	return check_trust(s, ask, cause);
}

static const char *
origin_name(const struct settings *s, enum setting_key key)
{
	return s->trust[key] == TRUST_DEFAULT ? "the default" : s->origin[key];
}

/* Where host, user and password came from, for the banner and status. */
char *
settings_origins(const struct settings *s)
{
	char	*out;

	xasprintf(&out, "host from %s, user from %s, %s%s",
	    origin_name(s, K_HOST), origin_name(s, K_USER),
	    *s->password == '\0' ? "no password" : "password from ",
	    *s->password == '\0' ? "" : origin_name(s, K_PASSWORD));
	return out;
}

/* One parser for every integer key: the range and the unit are the key's. */
static int
set_int(const struct keyword *kw, unsigned int *dst, const char *v,
    char **cause)
{
	long long	n;

	if (parse_int_arg(v, kw->min, kw->max, &n) != 0) {
		xasprintf(cause, "bad %s '%s': %s from %lld%s to %lld",
		    kw->name, v, kw->unit, kw->min, kw->min == 0 ?
		    " (no limit)" : "", kw->max);
		return -1;
	}
	*dst = (unsigned int)n;
	return 0;
}

/* One setter for every string key, its flags saying what is checked. */
static int
set_text(const struct keyword *kw, char **dst, const char *v, char **cause)
{
	int	b;

	if ((kw->flags & F_IDENT) && check_identifier(v) != 0) {
		xasprintf(cause, "bad %s '%s': 1 to %d letters, digits or _",
		    kw->name, v, TABLE_MAX);
		return -1;
	}
	if ((kw->flags & F_SWITCH) && (*v == '\0' || strlen(v) > TEXT_MAX)) {
		xasprintf(cause, "bad %s: on, off or a command of 1 to "
		    XSTR(TEXT_MAX) " bytes", kw->name);
		return -1;
	}
	if ((kw->flags & F_NONEMPTY) && *v == '\0') {
		xasprintf(cause, "%s is empty", kw->name);
		return -1;
	}
	if (strlen(v) > TEXT_MAX) {
		xasprintf(cause, "%s is longer than " XSTR(TEXT_MAX) " bytes",
		    kw->name);
		return -1;
	}
	if ((kw->flags & F_SWITCH) && parse_bool(v, &b) == 0)
		v = b ? "on" : "off";
	set_string(dst, v, kw->flags & F_SECRET);
	return 0;
}

/* The keys that take one of a few words. */
static int
set_word(const struct keyword *kw, void *dst, const char *v, char **cause)
{
	enum format	fmt;
	int		b;

	switch (kw->kind) {
	case V_TLS:
		if (strcmp(v, "verify") == 0)
			*(enum tls_mode *)dst = TLS_VERIFY;
		else if (strcmp(v, "off") == 0)
			*(enum tls_mode *)dst = TLS_OFF;
		else {
			xasprintf(cause, "bad %s '%s': verify or off",
			    kw->name, v);
			return -1;
		}
		return 0;
	case V_FORMAT:
		if (parse_format(v, &fmt) != 0) {
			xasprintf(cause, "bad %s '%s': table, vertical, tsv, "
			    "csv or json", kw->name, v);
			return -1;
		}
		*(enum format *)dst = fmt;
		return 0;
	default:
		if (parse_bool(v, &b) != 0) {
			xasprintf(cause, "bad %s '%s': on or off", kw->name, v);
			return -1;
		}
		*(int *)dst = b;
		return 0;
	}
}

/* Check and store one value; origin says where it came from. */
int
settings_set(struct settings *s, enum setting_key key, const char *v,
    const char *origin, enum trust trust, char **cause)
{
	const struct keyword	*kw = keyword_of(key);
	void			*dst = (char *)s + kw->offset;
	int			 rc;

	switch (kw->kind) {
	case V_TEXT:
		rc = set_text(kw, dst, v, cause);
		break;
	case V_INT:
		rc = set_int(kw, dst, v, cause);
		break;
	case V_HOSTS:
		rc = set_hosts(s, v, cause);
		break;
	default:
		rc = set_word(kw, dst, v, cause);
		break;
	}
	if (rc != 0)
		return -1;
	free(s->origin[key]);
	s->origin[key] = xstrdup(origin);
	s->trust[key] = trust;
	return 0;
}

/*
 * A file read without being named is trusted as OpenSSH trusts its
 * config: owned by the user or root, and writable by no one else.
 */
static int
safe_to_trust(FILE *f, const char *path, char **cause)
{
	struct stat	 sb;
	struct passwd	*pw;
	char		*owner;

	if (fstat(fileno(f), &sb) != 0) {
		xasprintf(cause, "ignoring %s: %s", path, strerror(errno));
		return 0;
	}
	if (sb.st_uid != getuid() && sb.st_uid != 0) {
		if ((pw = getpwuid(sb.st_uid)) != NULL)
			owner = xstrdup(pw->pw_name);
		else
			xasprintf(&owner, "uid %lu", (unsigned long)sb.st_uid);
		xasprintf(cause, "ignoring %s: it belongs to %s, not to you "
		    "(name it with --env to read it)", path, owner);
		free(owner);
		return 0;
	}
	if (sb.st_mode & (S_IWGRP | S_IWOTH)) {
		xasprintf(cause, "ignoring %s: %s can write it (chmod go-w %s)",
		    path, (sb.st_mode & S_IWOTH) ? "others" : "its group",
		    path);
		return 0;
	}
	return 1;
}

/*
 * Read a whole file into *bufp; NUL bytes are refused (they end C strings
 * early). Returns 0, -1 on an error, or 1 when trust is TRUST_DOTENV and
 * the file is not safe to trust: not read, and the cause says why.
 */
static int
read_file(const char *path, enum trust trust, char **bufp, size_t *lenp,
    char **cause)
{
	FILE	*f;
	char	*buf = NULL, *nbuf;
	size_t	 len = 0, size = 0, n;

	if ((f = fopen(path, "r")) == NULL) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (trust == TRUST_DOTENV && !safe_to_trust(f, path, cause)) {
		fclose(f);
		return 1;
	}
	/* The file may hold a password: no copies in stdio or realloc. */
	setvbuf(f, NULL, _IONBF, 0);
	for (;;) {
		if (size - len < 4096) {
			if (size > 1024 * 1024) {
				xasprintf(cause, "%s: larger than 1 MiB", path);
				goto fail;
			}
			size = size * 2 + 4096;
			nbuf = xmalloc(size + 1);
			if (buf != NULL) {
				memcpy(nbuf, buf, len);
				explicit_bzero(buf, len);
				free(buf);
			}
			buf = nbuf;
		}
		n = fread(buf + len, 1, size - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		goto fail;
	}
	fclose(f);
	buf[len] = '\0';
	if (memchr(buf, '\0', len) != NULL) {
		explicit_bzero(buf, len);
		free(buf);
		xasprintf(cause, "%s: holds a NUL byte; not a text file", path);
		return -1;
	}
	*bufp = buf;
	*lenp = len;
	return 0;

fail:
	fclose(f);
	if (buf != NULL)
		explicit_bzero(buf, len);
	free(buf);
	return -1;
}

/* Warn when a file holding a password can be read by group or others. */
int
settings_file_private(const char *path, char **cause)
{
	struct stat	sb;

	if (stat(path, &sb) != 0 || (sb.st_mode & 077) == 0)
		return 0;
	xasprintf(cause, "%s holds a password and can be read by others "
	    "(chmod 600 %s)", path, path);
	return -1;
}

static void
password_warning(const char *path)
{
	char	*cause;

	if (settings_file_private(path, &cause) != 0) {
		fprintf(stderr, "%s: warning: %s\n", progname, cause);
		free(cause);
	}
}

/* The INI reader: inih, fed one line at a time so we know the line. */
struct ini_state {
	struct settings	*s;
	const char	*path;
	const char	*p;		/* next unread byte */
	int		 line;
	enum trust	 trust;
	int		 seen[K_COUNT];
	int		 password;
	char		*cause;		/* the first error */
};

#define INI_LINE_MAX	(INI_MAX_LINE - 2)

static void
ini_error(struct ini_state *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
ini_error(struct ini_state *st, const char *fmt, ...)
{
	va_list	 ap;
	char	*msg;

	if (st->cause != NULL)
		return;
	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	xasprintf(&st->cause, "%s:%d: %s", st->path, st->line, msg);
	free(msg);
}

static char *
ini_read_line(char *str, int num, void *arg)
{
	struct ini_state	*st = arg;
	const char		*eol, *q;
	size_t			 len;

	/* inih's line buffer held the last line, maybe the password. */
	if (*st->p == '\0' || st->cause != NULL) {
		explicit_bzero(str, num);
		return NULL;
	}
	st->line++;
	eol = strchr(st->p, '\n');
	len = eol == NULL ? strlen(st->p) : (size_t)(eol - st->p);
	if (len > 0 && st->p[len - 1] == '\r')
		len--;
	if (len > INI_LINE_MAX || len + 2 > (size_t)num) {
		ini_error(st, "line is %zu bytes long; at most %d", len,
		    INI_LINE_MAX);
		explicit_bzero(str, num);
		return NULL;
	}
	memcpy(str, st->p, len);
	str[len] = '\n';
	str[len + 1] = '\0';
	st->p = eol == NULL ? st->p + strlen(st->p) : eol + 1;

	/* inih cannot tell us about a section that has no keys. */
	q = str;
	if (st->line == 1 && strncmp(q, "\xef\xbb\xbf", 3) == 0)
		q += 3;		/* inih skips a byte order mark there too */
	for (; *q == ' ' || *q == '\t'; q++)
		;
	if (*q == '[') {
		const char *end = strchr(q, ']');

		if (end == NULL)
			ini_error(st, "section header without ']'");
		else if (!((end - q - 1 == 10 &&
		    strncmp(q + 1, "connection", 10) == 0) ||
		    (end - q - 1 == 5 && strncmp(q + 1, "shell", 5) == 0)))
			ini_error(st, "unknown section [%.*s]: "
			    "[connection] or [shell]", (int)(end - q - 1),
			    q + 1);
	}
	return str;
}

/* Values may be quoted; inih keeps the quotes, so we take them off. */
static int
unquote(const char *v, char **out)
{
	size_t	len = strlen(v);

	if (len > 0 && (v[0] == '\'' || v[0] == '"')) {
		if (len < 2 || v[len - 1] != v[0])
			return -1;
		*out = xstrndup(v + 1, len - 2);
		return 0;
	}
	*out = xstrdup(v);
	return 0;
}

static int
ini_take_key(void *arg, const char *section, const char *name,
    const char *value)
{
	struct ini_state	*st = arg;
	size_t			 i;
	char			*v, *cause, *origin;

	if (st->cause != NULL)
		return 0;
	if (*section == '\0') {
		ini_error(st, "'%s' outside a section: put it under "
		    "[connection] or [shell]", name);
		return 0;
	}
	for (i = 0; i < NKEYWORDS; i++) {
		if (strcmp(keywords[i].section, section) == 0 &&
		    strcmp(keywords[i].name, name) == 0)
			break;
	}
	if (i == NKEYWORDS) {
		ini_error(st, "unknown key '%s' in [%s]", name, section);
		return 0;
	}
	if (st->seen[keywords[i].key]) {
		ini_error(st, "'%s' given twice (an indented line continues "
		    "the key above it)", name);
		return 0;
	}
	st->seen[keywords[i].key] = 1;
	if (unquote(value, &v) != 0) {
		ini_error(st, "unterminated quote in '%s' (note that ' ;' "
		    "starts a comment)", name);
		return 0;
	}
	xasprintf(&origin, "%s:%d", st->path, st->line);
	if (settings_set(st->s, keywords[i].key, v, origin, st->trust,
	    &cause) != 0) {
		ini_error(st, "%s", cause);
		free(cause);
	}
	if (keywords[i].key == K_PASSWORD && *v != '\0')
		st->password = 1;
	free(origin);
	freezero_str(v);
	return st->cause == NULL;
}

int
settings_load_ini(struct settings *s, const char *path, enum trust trust,
    char **cause)
{
	struct ini_state	 st;
	char			*buf;
	size_t			 len;
	int			 line, rc;

	if ((rc = read_file(path, trust, &buf, &len, cause)) != 0)
		return rc;
	memset(&st, 0, sizeof st);
	st.s = s;
	st.trust = trust;
	st.path = path;
	st.p = buf;
	line = ini_parse_stream(ini_read_line, &st, ini_take_key, &st);
	freezero_str(buf);
	if (st.cause == NULL && line != 0) {
		st.line = line;
		ini_error(&st, "not a 'key = value' line or a [section]");
	}
	if (st.cause != NULL) {
		*cause = st.cause;
		return -1;
	}
	if (st.password)
		password_warning(path);
	return 0;
}

/*
 * The quickstart's .env: KEY=VALUE lines, 'single' or "double" quotes, an
 * optional "export ", # comments on their own or after a value. Keys we do
 * not know belong to other programs and are ignored.
 */
static int
dotenv_value(const char *p, char **out, char **cause)
{
	char	*v, *w;
	char	 q;

	if (*p == '\'' || *p == '"') {
		q = *p++;
		v = w = xmalloc(strlen(p) + 1);
		for (; *p != q; p++) {
			if (*p == '\0') {
				*w = '\0';
				freezero_str(v);
				xasprintf(cause, "unterminated %s quote",
				    q == '\'' ? "single" : "double");
				return -1;
			}
			if (q == '"' && *p == '\\' && p[1] != '\0') {
				p++;
				*w++ = *p == 'n' ? '\n' : *p == 't' ? '\t' :
				    *p;
				continue;
			}
			*w++ = *p;
		}
		*w = '\0';
		for (p++; *p == ' ' || *p == '\t'; p++)
			;
		if (*p != '\0' && *p != '#') {
			freezero_str(v);
			xasprintf(cause, "text after the closing quote");
			return -1;
		}
		*out = v;
		return 0;
	}
	/* Unquoted: up to a blank followed by #, blanks trimmed. */
	w = strstr(p, " #");
	if (w == NULL)
		w = strstr(p, "\t#");
	if (w == NULL)
		w = (char *)p + strlen(p);
	while (w > p && (w[-1] == ' ' || w[-1] == '\t'))
		w--;
	*out = xstrndup(p, w - p);
	return 0;
}

int
settings_load_dotenv(struct settings *s, const char *path, enum trust trust,
    char **cause)
{
	char		*buf, *line, *next, *p, *key, *v, *err, *origin;
	size_t		 len, buflen, i;
	int		 lineno = 0, password = 0, rc;

	if ((rc = read_file(path, trust, &buf, &buflen, cause)) != 0)
		return rc;
	/* A byte order mark (editors on Windows write one) is skipped. */
	line = buf;
	if (strncmp(line, "\xef\xbb\xbf", 3) == 0)
		line += 3;
	for (; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		len = strlen(line);
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		for (p = line; *p == ' ' || *p == '\t'; p++)
			;
		if (*p == '\0' || *p == '#')
			continue;
		if (strncmp(p, "export", 6) == 0 && (p[6] == ' ' ||
		    p[6] == '\t'))
			for (p += 6; *p == ' ' || *p == '\t'; p++)
				;
		key = p;
		while (isalnum((unsigned char)*p) || *p == '_' || *p == '.')
			p++;
		len = p - key;
		while (*p == ' ' || *p == '\t')
			p++;
		if (len == 0 || *p != '=') {
			xasprintf(cause, "%s:%d: expected KEY=VALUE", path,
			    lineno);
			goto fail;
		}
		for (p++; *p == ' ' || *p == '\t'; p++)
			;
		if (dotenv_value(p, &v, &err) != 0) {
			xasprintf(cause, "%s:%d: %s", path, lineno, err);
			free(err);
			goto fail;
		}
		key[len] = '\0';
		for (i = 0; i < NKEYWORDS; i++) {
			if (keywords[i].dotenv != NULL &&
			    strcmp(keywords[i].dotenv, key) == 0)
				break;
		}
		if (i == NKEYWORDS) {
			freezero_str(v);
			continue;
		}
		if (keywords[i].key == K_PASSWORD && *v != '\0')
			password = 1;
		xasprintf(&origin, "%s:%d", path, lineno);
		if (settings_set(s, keywords[i].key, v, origin, trust,
		    &err) != 0) {
			xasprintf(cause, "%s:%d: %s: %s", path, lineno, key,
			    err);
			free(err);
			free(origin);
			freezero_str(v);
			goto fail;
		}
		free(origin);
		freezero_str(v);
	}
	/* Lines were cut with NULs: strlen() would stop at the first. */
	explicit_bzero(buf, buflen);
	free(buf);
	if (password)
		password_warning(path);
	return 0;

fail:
	explicit_bzero(buf, buflen);
	free(buf);
	return -1;
}

int
settings_load_environ(struct settings *s, char **cause)
{
	const char	*v;
	char		*origin, *err;
	size_t		 i;

	for (i = 0; i < NKEYWORDS; i++) {
		if (keywords[i].dotenv == NULL ||
		    (v = getenv(keywords[i].dotenv)) == NULL)
			continue;
		xasprintf(&origin, "environment (%s)", keywords[i].dotenv);
		if (settings_set(s, keywords[i].key, v, origin,
		    TRUST_ENVIRON, &err) != 0) {
			xasprintf(cause, "environment %s: %s",
			    keywords[i].dotenv, err);
			free(err);
			free(origin);
			return -1;
		}
		free(origin);
		/*
		 * The password is ours now: wipe it where /proc/PID/environ
		 * shows it, and take it out of what children would inherit.
		 */
		if (keywords[i].key == K_PASSWORD) {
			explicit_bzero((char *)v, strlen(v));
			unsetenv(keywords[i].dotenv);
		}
	}
	return 0;
}
