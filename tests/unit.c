/*
 * The unit tests: the tokenizer, the argument checks, the settings readers,
 * the CSV reader and the small checks of util.c, without a server. Most
 * cases live in tests/cases/NAME.cases (jq's tests/jq.test style: input, then
 * the expected result); this program reads them and prints TAP.
 *
 * Escapes understood in every case file (in inputs and in expectations):
 *	\0	a NUL byte
 *	\t	a tab
 *	\r	a carriage return
 *	\xHH	the byte HH (two hex digits)
 *	\&	nothing (for an empty line, a leading '#', trailing blanks)
 *	\(N:TEXT)	TEXT (raw bytes, no ')') repeated N times
 *	\\	two backslashes, untouched
 * Any other backslash stands for itself, so \" and \n reach the code
 * under test as typed.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "../src/session.h"
#include "../src/output.h"

#define CSV_PATH	"in.csv"

static unsigned int	 ntests;
static unsigned int	 nfailed;

struct buf {
	char	*p;
	size_t	 len;
	size_t	 size;
};

static void
buf_add(struct buf *b, const void *p, size_t len)
{
	if (b->len + len + 1 > b->size) {
		b->size = (b->len + len + 1) * 2;
		b->p = xrealloc(b->p, b->size);
	}
	memcpy(b->p + b->len, p, len);
	b->len += len;
	b->p[b->len] = '\0';
}

static void
buf_addc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

static void
buf_addf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 n;

	va_start(ap, fmt);
	n = xvasprintf(&s, fmt, ap);
	va_end(ap);
	buf_add(b, s, n);
	free(s);
}

static void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->p != NULL)
		b->p[0] = '\0';
}

static __attribute__((noreturn, format(printf, 1, 2))) void
bail(const char *fmt, ...)
{
	va_list	ap;

	fputs("Bail out! ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	exit(99);
}

/* Bytes made readable for a test name or a diagnostic. */
static char *
visible(const char *s, size_t len, size_t max)
{
	struct buf	 b = { NULL, 0, 0 };
	unsigned char	 c;
	size_t		 i;

	buf_add(&b, "", 0);
	for (i = 0; i < len; i++) {
		if (max != 0 && b.len >= max) {
			buf_add(&b, "...", 3);
			break;
		}
		c = (unsigned char)s[i];
		if (c == '\t')
			buf_add(&b, "\\t", 2);
		else if (c < 0x20 || c == 0x7f || c >= 0x80)
			buf_addf(&b, "\\x%02x", c);
		else
			buf_addc(&b, (char)c);
	}
	return b.p;
}

static void
diag_lines(const char *label, const char *s)
{
	const char	*nl;

	do {
		nl = strchr(s, '\n');
		printf("#   %s%.*s\n", label, nl == NULL ? (int)strlen(s) :
		    (int)(nl - s), s);
		label = "    ";
		s = nl + 1;
	} while (nl != NULL);
}

static int
ok(int cond, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int
ok(int cond, const char *fmt, ...)
{
	va_list	ap;

	ntests++;
	if (!cond)
		nfailed++;
	printf("%s %u - ", cond ? "ok" : "not ok", ntests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	return cond;
}

/* ok(), with what was expected and what came when they differ. */
static void
is_str(const char *got, const char *want, const char *name)
{
	char	*g, *w;

	if (ok(got != NULL && strcmp(got, want) == 0, "%s", name))
		return;
	w = visible(want, strlen(want), 0);
	g = got == NULL ? xstrdup("(null)") : visible(got, strlen(got), 0);
	diag_lines("expected: ", w);
	diag_lines("got:      ", g);
	free(w);
	free(g);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode the escapes listed at the top of this file, appending to b. */
static void
decode(struct buf *b, const char *s, const char *where)
{
	const char	*end;
	char		*num_end;
	long		 n;

	while (*s != '\0') {
		if (*s != '\\') {
			buf_addc(b, *s++);
			continue;
		}
		switch (s[1]) {
		case '0':
			buf_addc(b, '\0');
			s += 2;
			break;
		case 't':
			buf_addc(b, '\t');
			s += 2;
			break;
		case 'r':
			buf_addc(b, '\r');
			s += 2;
			break;
		case '&':
			s += 2;
			break;
		case '\\':
			buf_add(b, "\\\\", 2);
			s += 2;
			break;
		case 'x':
			if (hexval(s[2]) < 0 || hexval(s[3]) < 0)
				bail("%s: bad \\x escape", where);
			buf_addc(b, (char)(hexval(s[2]) * 16 + hexval(s[3])));
			s += 4;
			break;
		case '(':
			n = strtol(s + 2, &num_end, 10);
			if (num_end == s + 2 || *num_end != ':' || n < 0 ||
			    (end = strchr(num_end, ')')) == NULL)
				bail("%s: bad \\(N:TEXT) escape", where);
			while (n-- > 0)
				buf_add(b, num_end + 1, end - num_end - 1);
			s = end + 1;
			break;
		default:
			buf_addc(b, *s++);
			break;
		}
	}
}

/* ---- case files ---- */

struct cases {
	FILE		*f;
	char		*path;
	char		*name;		/* tests/cases/NAME, for test names */
	unsigned long	 lineno;
	char		*line;
	size_t		 size;
	int		 pushed;	/* the current line is to be read again */
};

static void
cases_open(struct cases *cf, const char *name)
{
	const char	*top = getenv("top_srcdir");

	memset(cf, 0, sizeof *cf);
	if (top == NULL || *top == '\0')
		top = ".";
	xasprintf(&cf->path, "%s/tests/cases/%s", top, name);
	cf->name = xstrdup(name);
	if ((cf->f = fopen(cf->path, "r")) == NULL)
		bail("%s: %s (is top_srcdir right?)", cf->path,
		    strerror(errno));
}

static void
cases_close(struct cases *cf)
{
	fclose(cf->f);
	free(cf->path);
	free(cf->name);
	free(cf->line);
}

/* The next line without its newline, or NULL at the end. */
static const char *
cases_line(struct cases *cf)
{
	ssize_t	n;

	if (cf->pushed) {
		cf->pushed = 0;
		return cf->line;
	}
	if ((n = getline(&cf->line, &cf->size, cf->f)) == -1) {
		if (ferror(cf->f))
			bail("%s: %s", cf->path, strerror(errno));
		return NULL;
	}
	cf->lineno++;
	if (n > 0 && cf->line[n - 1] == '\n')
		cf->line[n - 1] = '\0';
	return cf->line;
}

static int
skippable(const char *l)
{
	return *l == '\0' || *l == '#';
}

/*
 * Pair files: an input line, then the expected line; blank lines and
 * '#' comments between cases. Returns 0 at the end.
 */
static int
cases_pair(struct cases *cf, struct buf *in, struct buf *want,
    unsigned long *at)
{
	const char	*l;
	char		*where;

	while ((l = cases_line(cf)) != NULL && skippable(l))
		;
	if (l == NULL)
		return 0;
	*at = cf->lineno;
	xasprintf(&where, "%s:%lu", cf->path, cf->lineno);
	buf_reset(in);
	buf_add(in, "", 0);
	decode(in, l, where);
	if ((l = cases_line(cf)) == NULL || *l == '\0')
		bail("%s: an input without an expected result", where);
	free(where);
	xasprintf(&where, "%s:%lu", cf->path, cf->lineno);
	buf_reset(want);
	buf_add(want, "", 0);
	decode(want, l, where);
	free(where);
	return 1;
}

/*
 * Block files: "=== KIND[,noeol] description", the input's lines, a line
 * "---", then the expected lines (blank lines and '#' comments skipped)
 * up to the next "===". The input's lines each end with a newline unless
 * the kind says noeol. Returns 0 at the end.
 */
struct block {
	char		*kind;
	char		*title;
	int		 noeol;
	unsigned long	 at;
	struct buf	 in;
	char		**want;		/* decoded, NUL-terminated */
	size_t		*wantlen;
	size_t		 nwant;
};

static void
block_clear(struct block *bl)
{
	size_t	i;

	free(bl->kind);
	free(bl->title);
	for (i = 0; i < bl->nwant; i++)
		free(bl->want[i]);
	free(bl->want);
	free(bl->wantlen);
	free(bl->in.p);
	memset(bl, 0, sizeof *bl);
}

static int
cases_block(struct cases *cf, struct block *bl)
{
	const char	*l, *sp;
	char		*where;
	struct buf	 w;
	size_t		 klen;

	block_clear(bl);
	while ((l = cases_line(cf)) != NULL && strncmp(l, "=== ", 4) != 0) {
		if (!skippable(l))
			bail("%s:%lu: expected '=== KIND title'", cf->path,
			    cf->lineno);
	}
	if (l == NULL)
		return 0;
	bl->at = cf->lineno;
	l += 4;
	klen = strcspn(l, " ");
	bl->kind = xstrndup(l, klen);
	if ((sp = strchr(bl->kind, ',')) != NULL) {
		bl->noeol = strcmp(sp, ",noeol") == 0;
		if (!bl->noeol)
			bail("%s:%lu: unknown flag '%s'", cf->path, cf->lineno,
			    sp);
		bl->kind[sp - bl->kind] = '\0';
	}
	bl->title = xstrdup(l + klen + strspn(l + klen, " "));
	buf_add(&bl->in, "", 0);
	for (;;) {
		if ((l = cases_line(cf)) == NULL)
			bail("%s:%lu: no '---' line", cf->path, bl->at);
		if (strcmp(l, "---") == 0)
			break;
		xasprintf(&where, "%s:%lu", cf->path, cf->lineno);
		decode(&bl->in, l, where);
		free(where);
		buf_addc(&bl->in, '\n');
	}
	if (bl->noeol && bl->in.len > 0)
		bl->in.p[--bl->in.len] = '\0';
	while ((l = cases_line(cf)) != NULL && strncmp(l, "=== ", 4) != 0) {
		if (skippable(l))
			continue;
		memset(&w, 0, sizeof w);
		buf_add(&w, "", 0);
		xasprintf(&where, "%s:%lu", cf->path, cf->lineno);
		decode(&w, l, where);
		free(where);
		bl->want = xreallocarray(bl->want, bl->nwant + 1,
		    sizeof *bl->want);
		bl->wantlen = xreallocarray(bl->wantlen, bl->nwant + 1,
		    sizeof *bl->wantlen);
		bl->want[bl->nwant] = w.p;
		bl->wantlen[bl->nwant++] = w.len;
	}
	if (l != NULL)
		cf->pushed = 1;
	if (bl->nwant == 0)
		bail("%s:%lu: a case without an expected result", cf->path,
		    bl->at);
	return 1;
}

static char *
test_name(const struct cases *cf, unsigned long at, const char *s,
    size_t len)
{
	char	*v, *name;

	v = visible(s, len, 60);
	xasprintf(&name, "%s:%lu: %s", cf->name, at, v);
	free(v);
	return name;
}

/*
 * An "error: [LINE: ]SUBSTRING" expectation against a cause. With a line,
 * the cause must hold "PATH:LINE: " exactly.
 */
static int
error_matches(const char *want, const char *path, const char *cause)
{
	const char	*p = want + strlen("error: ");
	char		*loc, *end;
	unsigned long	 line;
	int		 rc;

	line = strtoul(p, &end, 10);
	if (end != p && strncmp(end, ": ", 2) == 0 && path != NULL) {
		xasprintf(&loc, "%s:%lu: ", path, line);
		rc = strstr(cause, loc) != NULL &&
		    strstr(cause, end + 2) != NULL;
		free(loc);
		return rc;
	}
	return strstr(cause, p) != NULL;
}

static int
is_error_want(const char *want)
{
	return strncmp(want, "error: ", 7) == 0;
}

/* ---- tokenize.cases: split_line() ---- */

static void
render_words(struct buf *b, const struct words *cmds, size_t n)
{
	size_t	i;
	int	j;

	if (n == 0)
		buf_add(b, "(nothing)", 9);
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_add(b, " ; ", 3);
		for (j = 0; j < cmds[i].argc; j++) {
			buf_add(b, j > 0 ? " [" : "[", j > 0 ? 2 : 1);
			buf_add(b, cmds[i].argv[j], strlen(cmds[i].argv[j]));
			buf_addc(b, ']');
		}
		if (cmds[i].argv[cmds[i].argc] != NULL)
			buf_add(b, " (argv not NULL-terminated)", 27);
	}
}

static void
run_tokenize(void)
{
	struct cases	 cf;
	struct buf	 in = { 0 }, want = { 0 }, got = { 0 };
	struct words	*cmds;
	unsigned long	 at;
	size_t		 n;
	char		*cause, *name;
	int		 rc;

	cases_open(&cf, "tokenize.cases");
	while (cases_pair(&cf, &in, &want, &at)) {
		name = test_name(&cf, at, in.p, in.len);
		cause = NULL;
		rc = split_line(in.p, in.len, &cmds, &n, &cause);
		buf_reset(&got);
		buf_add(&got, "", 0);
		if (rc != 0) {
			if (cmds != NULL || n != 0)
				buf_add(&got, "(commands left on error) ", 25);
			buf_addf(&got, "error: %s", cause != NULL ? cause :
			    "(no cause)");
		} else
			render_words(&got, cmds, n);
		if (is_error_want(want.p) && rc != 0 && cause != NULL &&
		    cmds == NULL && n == 0) {
			if (!ok(strstr(cause, want.p + 7) != NULL, "%s", name))
				diag_lines("got: ", got.p);
		} else
			is_str(got.p, want.p, name);
		if (rc == 0)
			free_words(cmds, n);
		free(cause);
		free(name);
	}
	cases_close(&cf);
	free(in.p);
	free(want.p);
	free(got.p);
}

/* ---- check.cases: command_check() ---- */

static void
run_check(void)
{
	struct cases		 cf;
	struct buf		 in = { 0 }, want = { 0 }, got = { 0 };
	const struct command	*c;
	struct words		*cmds;
	unsigned long		 at;
	size_t			 n;
	char			*cause, *name;
	int			 rc;

	cases_open(&cf, "check.cases");
	while (cases_pair(&cf, &in, &want, &at)) {
		name = test_name(&cf, at, in.p, in.len);
		if (split_line(in.p, in.len, &cmds, &n, &cause) != 0 ||
		    n != 1)
			bail("%s:%lu: not one command", cf.path, at);
		cause = NULL;
		c = NULL;
		rc = command_check(&cmds[0], &c, &cause);
		buf_reset(&got);
		buf_add(&got, "", 0);
		if (rc != 0)
			buf_addf(&got, "error: %s", cause != NULL ? cause :
			    "(no cause)");
		else if (c == NULL)
			buf_add(&got, "ok, but no command", 18);
		else
			buf_add(&got, "ok", 2);
		if (is_error_want(want.p) && rc != 0 && cause != NULL) {
			if (!ok(strstr(cause, want.p + 7) != NULL, "%s", name))
				diag_lines("got: ", got.p);
		} else
			is_str(got.p, want.p, name);
		free_words(cmds, n);
		free(cause);
		free(name);
	}
	cases_close(&cf);
	free(in.p);
	free(want.p);
	free(got.p);
}

/* ---- settings.cases: settings_load_ini(), settings_load_dotenv() ---- */

/* The host list as "NAME:PORT,...", an IPv6 address in brackets. */
static char *
hosts_value(const struct settings *s)
{
	struct buf	 b = { 0 };
	size_t		 i;

	buf_add(&b, "", 0);
	for (i = 0; i < s->nhosts; i++) {
		if (strchr(s->hosts[i].name, ':') != NULL)
			buf_addf(&b, "%s[%s]:%u", i > 0 ? "," : "",
			    s->hosts[i].name, s->hosts[i].port);
		else
			buf_addf(&b, "%s%s:%u", i > 0 ? "," : "",
			    s->hosts[i].name, s->hosts[i].port);
	}
	return b.p;
}

static char *
settings_value(const struct settings *s, const char *key)
{
	char	*v;

	if (strcmp(key, "host") == 0)
		return xstrdup(s->host);
	if (strcmp(key, "user") == 0)
		return xstrdup(s->user);
	if (strcmp(key, "password") == 0)
		return xstrdup(s->password);
	if (strcmp(key, "database") == 0)
		return xstrdup(s->database);
	if (strcmp(key, "ca") == 0)
		return xstrdup(s->ca == NULL ? "(unset)" : s->ca);
	if (strcmp(key, "history") == 0)
		return xstrdup(s->history == NULL ? "(unset)" : s->history);
	if (strcmp(key, "table") == 0)
		return xstrdup(s->table);
	if (strcmp(key, "tls") == 0)
		return xstrdup(s->tls == TLS_VERIFY ? "verify" : "off");
	if (strcmp(key, "format") == 0)
		return xstrdup(format_name(s->format));
	if (strcmp(key, "timing") == 0)
		return xstrdup(s->timing ? "on" : "off");
	if (strcmp(key, "pager") == 0)
		return xstrdup(s->pager);
	if (strcmp(key, "prompt") == 0)
		return xstrdup(s->prompt == NULL ? "(unset)" : s->prompt);
	if (strcmp(key, "hosts") == 0)
		return hosts_value(s);
	if (strcmp(key, "port") == 0)
		xasprintf(&v, "%u", s->port);
	else if (strcmp(key, "connect_timeout") == 0)
		xasprintf(&v, "%u", s->connect_timeout);
	else if (strcmp(key, "read_timeout") == 0)
		xasprintf(&v, "%u", s->read_timeout);
	else if (strcmp(key, "retries") == 0)
		xasprintf(&v, "%u", s->retries);
	else if (strcmp(key, "batch") == 0)
		xasprintf(&v, "%u", s->batch);
	else
		return NULL;
	return v;
}

static char *
write_temp(const char *data, size_t len)
{
	const char	*dir = getenv("TMPDIR");
	char		*path;
	int		 fd;

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	xasprintf(&path, "%s/tidbplay-unit-XXXXXX", dir);
	if ((fd = mkstemp(path)) == -1)
		bail("mkstemp %s: %s", path, strerror(errno));
	if (write(fd, data, len) != (ssize_t)len || close(fd) != 0)
		bail("write %s: %s", path, strerror(errno));
	return path;
}

/*
 * One expectation line against loaded settings: "KEY=VALUE", or
 * "origin.KEY=N" (the value came from this file's line N).
 */
static int
check_setting(const struct settings *s, const char *path, const char *want,
    struct buf *why)
{
	const char	*eq = strchr(want, '=');
	char		*key, *got, *exp;
	int		 k, rc;

	if (eq == NULL)
		bail("settings.cases: '%s' is not KEY=VALUE", want);
	key = xstrndup(want, eq - want);
	if (strncmp(key, "origin.", 7) == 0) {
		if ((k = settings_key_lookup(key + 7)) < 0)
			bail("settings.cases: no setting '%s'", key + 7);
		got = xstrdup(s->origin[k]);
		if (strspn(eq + 1, "0123456789") == strlen(eq + 1))
			xasprintf(&exp, "%s:%s", path, eq + 1);
		else
			exp = xstrdup(eq + 1);
	} else {
		if ((got = settings_value(s, key)) == NULL)
			bail("settings.cases: no setting '%s'", key);
		exp = xstrdup(eq + 1);
	}
	rc = strcmp(got, exp) == 0;
	if (!rc)
		buf_addf(why, "%s: expected '%s', got '%s'\n", key, exp, got);
	free(key);
	free(got);
	free(exp);
	return rc;
}

static void
run_settings(void)
{
	struct cases	 cf;
	struct block	 bl = { 0 };
	struct settings	 s;
	struct buf	 why = { 0 };
	size_t		 i;
	char		*path, *cause, *name, *v;
	int		 rc, good;

	cases_open(&cf, "settings.cases");
	while (cases_block(&cf, &bl)) {
		xasprintf(&name, "%s:%lu: %s: %s", cf.name, bl.at, bl.kind,
		    bl.title);
		path = write_temp(bl.in.p, bl.in.len);
		settings_init(&s);
		cause = NULL;
		if (strcmp(bl.kind, "ini") == 0)
			rc = settings_load_ini(&s, path, TRUST_FILE, &cause);
		else if (strcmp(bl.kind, "dotenv") == 0)
			rc = settings_load_dotenv(&s, path, TRUST_FILE, &cause);
		else
			bail("%s:%lu: kind ini or dotenv", cf.path, bl.at);
		if (rc == 0)
			rc = settings_finish(&s, 0, &cause);
		buf_reset(&why);
		buf_add(&why, "", 0);
		good = 1;
		if (is_error_want(bl.want[0])) {
			if (bl.nwant != 1)
				bail("%s:%lu: an error is the only expectation",
				    cf.path, bl.at);
			good = rc != 0 && cause != NULL &&
			    error_matches(bl.want[0], path, cause);
			if (!good)
				buf_addf(&why, "expected: %s\ngot: %s",
				    bl.want[0], rc == 0 ? "success" :
				    cause == NULL ? "(no cause)" : cause);
		} else if (rc != 0) {
			good = 0;
			buf_addf(&why, "unexpected error: %s",
			    cause == NULL ? "(no cause)" : cause);
		} else {
			for (i = 0; i < bl.nwant; i++)
				good &= check_setting(&s, path, bl.want[i],
				    &why);
		}
		if (!ok(good, "%s", name)) {
			v = visible(why.p, why.len, 0);
			diag_lines("", v);
			free(v);
		}
		settings_free(&s);
		unlink(path);
		free(path);
		free(cause);
		free(name);
	}
	block_clear(&bl);
	cases_close(&cf);
	free(why.p);
}

/* The environment overrides a .env file; a bad value there is an error. */
static void
run_environ(void)
{
	static const char *vars[] = { "TIDB_HOST", "TIDB_PORT", "TIDB_USER",
	    "TIDB_PASSWORD", "TIDB_DB_NAME", "CA_PATH" };
	struct settings	 s;
	char		*path, *cause = NULL, *origin;
	size_t		 i;
	int		 rc;
	const char	*dotenv = "TIDB_HOST='filehost'\nTIDB_PORT='4001'\n"
	    "TIDB_USER='fileuser'\nCA_PATH='/file/ca.pem'\n";

	for (i = 0; i < sizeof vars / sizeof vars[0]; i++)
		unsetenv(vars[i]);
	path = write_temp(dotenv, strlen(dotenv));

	settings_init(&s);
	rc = settings_load_dotenv(&s, path, TRUST_FILE, &cause) == 0 &&
	    settings_load_environ(&s, &cause) == 0;
	ok(rc && strcmp(s.host, "filehost") == 0 && s.port == 4001,
	    "environ: nothing set leaves the .env values");
	settings_free(&s);

	setenv("TIDB_HOST", "envhost", 1);
	setenv("TIDB_PORT", "4321", 1);
	setenv("TIDB_PASSWORD", "env secret", 1);
	setenv("CA_PATH", "", 1);
	settings_init(&s);
	rc = settings_load_dotenv(&s, path, TRUST_FILE, &cause) == 0 &&
	    settings_load_environ(&s, &cause) == 0;
	ok(rc, "environ: loads");
	is_str(s.host, "envhost", "environ: TIDB_HOST overrides the .env");
	ok(s.port == 4321, "environ: TIDB_PORT overrides the .env (%u)",
	    s.port);
	is_str(s.user, "fileuser", "environ: unset TIDB_USER keeps the .env");
	is_str(s.password, "env secret", "environ: TIDB_PASSWORD is taken");
	ok(getenv("TIDB_PASSWORD") == NULL,
	    "environ: TIDB_PASSWORD leaves the environment once taken");
	is_str(s.ca, "", "environ: empty CA_PATH means the system store");
	is_str(s.origin[K_HOST], "environment (TIDB_HOST)",
	    "environ: the origin names the variable");
	xasprintf(&origin, "%s:3", path);
	is_str(s.origin[K_USER], origin, "environ: the .env origin stays");
	free(origin);
	settings_free(&s);

	setenv("TIDB_PORT", "abc", 1);
	settings_init(&s);
	rc = settings_load_environ(&s, &cause);
	ok(rc != 0 && cause != NULL && strstr(cause, "TIDB_PORT") != NULL &&
	    strstr(cause, "bad port") != NULL,
	    "environ: TIDB_PORT=abc is an error naming the variable");
	if (cause != NULL)
		printf("#   the error: %s\n", cause);
	free(cause);
	cause = NULL;
	settings_free(&s);

	settings_init(&s);
	rc = settings_load_ini(&s, "/nonexistent/tidbplay.ini", TRUST_FILE,
	    &cause);
	ok(rc != 0 && cause != NULL &&
	    strstr(cause, "/nonexistent/tidbplay.ini") != NULL,
	    "a named INI file that is missing is an error naming it");
	free(cause);
	cause = NULL;
	rc = settings_load_dotenv(&s, "/nonexistent/.env", TRUST_FILE,
	    &cause);
	ok(rc != 0 && cause != NULL &&
	    strstr(cause, "/nonexistent/.env") != NULL,
	    "a named .env file that is missing is an error naming it");
	free(cause);
	settings_free(&s);

	for (i = 0; i < sizeof vars / sizeof vars[0]; i++)
		unsetenv(vars[i]);
	unlink(path);
	free(path);
}

/* ---- csv.cases: csv_read(), csv_header(), csv_player() ---- */

static void
render_record(struct buf *b, struct csv *c)
{
	const char	*f;
	size_t		 len;
	unsigned int	 i;

	buf_addf(b, "%lu:", csv_line(c));
	for (i = 0; i < csv_nfields(c); i++) {
		f = csv_field(c, i, &len);
		buf_add(b, " [", 2);
		buf_add(b, f, len);
		buf_addc(b, ']');
		if (f[len] != '\0')
			buf_add(b, "(not NUL-terminated)", 20);
	}
}

static void
lines_push(char ***lines, size_t *n, struct buf *b)
{
	*lines = xreallocarray(*lines, *n + 1, sizeof **lines);
	(*lines)[(*n)++] = b->p;
	memset(b, 0, sizeof *b);
	buf_add(b, "", 0);
}

/* The case's text as an input, in chunks of at most chunk bytes. */
struct mem_input {
	const char	*p;
	size_t		 len;
	size_t		 off;
	size_t		 chunk;
	size_t		 given;		/* the last chunk's size */
};

static int
mem_next(void *arg, const char **p, size_t *len)
{
	struct mem_input	*m = arg;

	if (m->off == m->len)
		return 0;
	*p = m->p + m->off;
	*len = m->len - m->off;
	if (*len > m->chunk)
		*len = m->chunk;
	m->off += *len;
	m->given = *len;
	return 1;
}

static void
mem_unread(void *arg, size_t n)
{
	struct mem_input	*m = arg;

	if (n > m->given)
		bail("csv gave back %zu bytes of a chunk of %zu", n, m->given);
	m->off -= n;
}

/*
 * One case read through csv.c: its lines of output. stdin cases end at a
 * line "\." (after an error, the rest is skipped) and show what is left.
 */
static size_t
csv_case(const struct block *bl, size_t chunk, char ***lines)
{
	struct mem_input m = { bl->in.p, bl->in.len, 0, chunk, 0 };
	struct input	 in = { .next = mem_next, .unread = mem_unread,
			       .arg = &m, .line = 1 };
	struct buf	 cur = { 0 };
	struct player	 pl;
	struct csv	*c;
	char		*cause = NULL;
	size_t		 n = 0;
	int		 col[3], rc, raw, marker;

	raw = strcmp(bl->kind, "raw") == 0;
	marker = strcmp(bl->kind, "stdin") == 0;
	buf_add(&cur, "", 0);
	c = csv_open(&in, CSV_PATH, marker);
	rc = raw ? 0 : csv_header(c, col, &cause);
	while (rc == 0) {
		if ((rc = csv_read(c, &cause)) != 1)
			break;
		rc = 0;
		if (raw)
			render_record(&cur, c);
		else if ((rc = csv_player(c, col, &pl, &cause)) == 0) {
			buf_addf(&cur, "%lu: [", csv_line(c));
			buf_add(&cur, pl.name, pl.namelen);
			buf_add(&cur, "]", 1);
			if (pl.coins_null)
				buf_addf(&cur, " NULL");
			else
				buf_addf(&cur, " %lld", pl.coins);
			if (pl.goods_null)
				buf_addf(&cur, " NULL");
			else
				buf_addf(&cur, " %lld", pl.goods);
		}
		if (rc == 0)
			lines_push(lines, &n, &cur);
	}
	if (rc == 0)
		buf_add(&cur, "eof", 3);
	else
		buf_addf(&cur, "error: %s", cause != NULL ? cause :
		    "(no cause)");
	lines_push(lines, &n, &cur);
	if (rc != 0)
		csv_skip(c);
	csv_close(c);
	if (marker) {
		buf_addf(&cur, "rest %lu: [", in.line);
		buf_add(&cur, m.p + m.off, m.len - m.off);
		buf_addc(&cur, ']');
		lines_push(lines, &n, &cur);
	}
	free(cur.p);
	free(cause);
	return n;
}

static void
run_csv(void)
{
	static const size_t chunks[] = { (size_t)-1, 1, 3 };
	struct cases	 cf;
	struct block	 bl = { 0 };
	char		*v, **lines = NULL;
	size_t		 nlines, i, k;
	int		 good;

	cases_open(&cf, "csv.cases");
	while (cases_block(&cf, &bl)) {
		if (strcmp(bl.kind, "csv") != 0 &&
		    strcmp(bl.kind, "raw") != 0 &&
		    strcmp(bl.kind, "stdin") != 0)
			bail("%s:%lu: kind csv, raw or stdin", cf.path, bl.at);
		for (k = 0; k < sizeof chunks / sizeof chunks[0]; k++) {
			nlines = csv_case(&bl, chunks[k], &lines);
			/* Compare line by line; an error line matches loosely. */
			good = nlines == bl.nwant;
			for (i = 0; good && i < nlines; i++) {
				if (is_error_want(bl.want[i]) &&
				    is_error_want(lines[i]))
					good = error_matches(bl.want[i],
					    CSV_PATH, lines[i] + 7);
				else
					good = strlen(lines[i]) ==
					    bl.wantlen[i] &&
					    strcmp(lines[i], bl.want[i]) == 0;
			}
			if (!ok(good, "%s:%lu: %s: %s%s", cf.name, bl.at,
			    bl.kind, bl.title, k == 0 ? "" : k == 1 ?
			    " (1-byte chunks)" : " (3-byte chunks)")) {
				for (i = 0; i < bl.nwant; i++) {
					v = visible(bl.want[i], bl.wantlen[i],
					    0);
					printf("#   expected: %s\n", v);
					free(v);
				}
				for (i = 0; i < nlines; i++) {
					v = visible(lines[i], strlen(lines[i]),
					    0);
					printf("#   got:      %s\n", v);
					free(v);
				}
			}
			for (i = 0; i < nlines; i++)
				free(lines[i]);
		}
	}
	free(lines);
	block_clear(&bl);
	cases_close(&cf);
}

/* ---- output.cases: the writers of output.c, byte for byte ---- */

#define OUT_REPEAT	3000	/* rows enough to fill the writer many times */

/*
 * The players of a case: "ID|NAME|COINS|GOODS" per line, "\N" for NULL.
 * A name holds no '|' but may hold a LF: a row ends at the LF after its
 * fourth field.
 */
static size_t
out_players(const struct block *bl, struct player **pls)
{
	const char	*p = bl->in.p, *end = bl->in.p + bl->in.len, *e;
	struct player	*pl;
	size_t		 n = 0, f, len;
	long long	 v[3];

	*pls = NULL;
	while (p < end) {
		*pls = xreallocarray(*pls, n + 1, sizeof **pls);
		pl = &(*pls)[n++];
		memset(pl, 0, sizeof *pl);
		for (f = 0; f < 4; f++) {
			e = memchr(p, f == 3 ? '\n' : '|', (size_t)(end - p));
			if (e == NULL)
				bail("output.cases:%lu: a row of four fields",
				    bl->at);
			len = (size_t)(e - p);
			if (f == 1) {
				pl->name_null = len == 2 &&
				    memcmp(p, "\\N", 2) == 0;
				if (len > NAME_MAX_BYTES)
					bail("output.cases:%lu: a long name",
					    bl->at);
				memcpy(pl->name, p, len);
				pl->namelen = pl->name_null ? 0 : len;
			} else {
				char *num = xstrndup(p, len);

				v[f == 0 ? 0 : f - 1] = strcmp(num, "\\N") == 0 ?
				    0 : strtoll(num, NULL, 10);
				if (f == 2)
					pl->coins_null = strcmp(num, "\\N") == 0;
				if (f == 3)
					pl->goods_null = strcmp(num, "\\N") == 0;
				free(num);
			}
			p = e + 1;
		}
		pl->id = v[0];
		pl->coins = v[1];
		pl->goods = v[2];
	}
	return n;
}

/* A terminal to write to, raw, so that its bytes come back unchanged. */
static FILE *
out_pty(int *master)
{
	struct termios	 t;
	FILE		*f;
	int		 s;

	if ((*master = posix_openpt(O_RDWR | O_NOCTTY)) == -1 ||
	    grantpt(*master) != 0 || unlockpt(*master) != 0 ||
	    (s = open(ptsname(*master), O_RDWR | O_NOCTTY)) == -1)
		bail("a pseudo-terminal: %s", strerror(errno));
	if (tcgetattr(s, &t) != 0)
		bail("tcgetattr: %s", strerror(errno));
	cfmakeraw(&t);
	if (tcsetattr(s, TCSANOW, &t) != 0 || (f = fdopen(s, "w")) == NULL)
		bail("a raw terminal: %s", strerror(errno));
	return f;
}

/* What a terminal's master has to read now (waiting at most 5 s). */
static void
out_pty_read(int master, struct buf *b, int wait)
{
	struct pollfd	 pfd = { master, POLLIN, 0 };
	char		 chunk[4096];
	ssize_t		 n;

	while (poll(&pfd, 1, wait ? 5000 : 0) == 1) {
		if ((n = read(master, chunk, sizeof chunk)) <= 0)
			break;
		buf_add(b, chunk, (size_t)n);
		wait = 0;
	}
}

/*
 * The players through a writer of format fmt into a file (or a terminal),
 * rows times over; the bytes that came out. At a terminal, each row must
 * be there as soon as it was written (*streamed says whether it was).
 */
static void
out_case(enum format fmt, int tty, int export, const struct player *pls,
    size_t npl, size_t rows, struct buf *b, int *streamed)
{
	struct out	*o;
	FILE		*f;
	char		 chunk[4096];
	size_t		 i, n, before;
	int		 master = -1;

	buf_reset(b);
	buf_add(b, "", 0);
	f = tty ? out_pty(&master) : tmpfile();
	if (f == NULL)
		bail("tmpfile: %s", strerror(errno));
	o = out_new(f, export ? FMT_CSV : fmt);
	if (export)
		out_begin_export(o);
	else
		out_begin_players(o);
	*streamed = 1;
	for (i = 0; i < rows * npl; i++) {
		out_player(&pls[i % npl], o);
		if (tty) {
			before = b->len;
			tcdrain(fileno(f));
			out_pty_read(master, b, 1);
			if (b->len == before)
				*streamed = 0;
		}
	}
	if (!export)
		out_end(o);
	if (out_flush(o) != 0)
		bail("the writer failed: %s", strerror(out_error(o)));
	out_free(o);
	if (tty) {
		tcdrain(fileno(f));
		out_pty_read(master, b, 0);
		fclose(f);
		close(master);
		return;
	}
	rewind(f);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(b, chunk, n);
	fclose(f);
}

static void
run_output(void)
{
	static const char *const kinds[] = { "table", "vertical", "tsv",
	    "csv", "json" };
	struct cases	 cf;
	struct block	 bl = { 0 };
	struct buf	 got = { 0 }, want = { 0 }, none = { 0 }, many = { 0 };
	struct player	*pls;
	enum format	 fmt = FMT_TSV;
	size_t		 npl, i, k, body;
	char		*kind, *w, *g;
	int		 tty, export, found, streamed, good;

	cases_open(&cf, "output.cases");
	while (cases_block(&cf, &bl)) {
		kind = xstrdup(bl.kind);
		tty = strlen(kind) > 4 && strcmp(kind + strlen(kind) - 4,
		    "-tty") == 0;
		if (tty)
			kind[strlen(kind) - 4] = '\0';
		export = strcmp(kind, "export") == 0;
		for (found = export, i = 0; !found && i < 5; i++) {
			if (strcmp(kind, kinds[i]) == 0) {
				fmt = (enum format)i;
				found = 1;
			}
		}
		if (!found)
			bail("%s:%lu: kind table, vertical, tsv, csv, json or "
			    "export, with -tty or not", cf.path, bl.at);
		npl = out_players(&bl, &pls);
		buf_reset(&want);
		buf_add(&want, "", 0);
		for (i = 0; i < bl.nwant; i++) {
			buf_add(&want, bl.want[i], bl.wantlen[i]);
			buf_addc(&want, '\n');
		}
		out_case(fmt, tty, export, pls, npl, 1, &got, &streamed);
		good = got.len == want.len &&
		    memcmp(got.p, want.p, got.len) == 0;
		if (!ok(good, "%s:%lu: %s: %s", cf.name, bl.at, bl.kind,
		    bl.title)) {
			w = visible(want.p, want.len, 0);
			g = visible(got.p, got.len, 0);
			printf("#   expected: %s\n#   got:      %s\n", w, g);
			free(w);
			free(g);
		}
		if (tty)
			ok(streamed, "%s:%lu: %s: each row reaches the "
			    "terminal when it is written", cf.name, bl.at,
			    bl.kind);
		/*
		 * Streamed formats, many times over, through every boundary of
		 * the writer's buffer: the header once, then the rows' bytes
		 * again and again.
		 */
		if (!tty && (export || fmt == FMT_TSV || fmt == FMT_CSV ||
		    fmt == FMT_JSON)) {
			out_case(fmt, 0, export, pls, npl, 0, &none, &streamed);
			out_case(fmt, 0, export, pls, npl, OUT_REPEAT, &many,
			    &streamed);
			body = got.len - none.len;
			good = many.len == none.len + body * OUT_REPEAT &&
			    memcmp(many.p, none.p, none.len) == 0;
			for (k = 0; good && k < OUT_REPEAT; k++)
				good = memcmp(many.p + none.len + k * body,
				    got.p + none.len, body) == 0;
			ok(good, "%s:%lu: %s: %d times over (%zu bytes)",
			    cf.name, bl.at, bl.kind, OUT_REPEAT, many.len);
		}
		free(pls);
		free(kind);
	}
	free(got.p);
	free(want.p);
	free(none.p);
	free(many.p);
	block_clear(&bl);
	cases_close(&cf);
}

/*
 * Output that cannot be written fails: a full disk, a reader gone. The
 * rows stop coming (out_player says stop) within what the writer holds.
 */
static void
run_output_errors(void)
{
	static const struct {
		const char	*what;
		int		 err;
	} dests[] = { { "/dev/full", ENOSPC }, { "a closed pipe", EPIPE } };
	struct player	 pl = { .id = 1, .coins = 10, .goods = 20 };
	struct out	*o;
	FILE		*f;
	size_t		 i, rows;
	int		 fds[2];

	signal(SIGPIPE, SIG_IGN);
	memcpy(pl.name, "a_player_name", 13);
	pl.namelen = 13;
	for (i = 0; i < sizeof dests / sizeof dests[0]; i++) {
		if (dests[i].err == ENOSPC)
			f = fopen("/dev/full", "w");
		else {
			if (pipe(fds) != 0)
				bail("pipe: %s", strerror(errno));
			close(fds[0]);
			f = fdopen(fds[1], "w");
		}
		if (f == NULL)
			bail("%s: %s", dests[i].what, strerror(errno));
		o = out_new(f, FMT_CSV);
		out_mark(o);
		out_begin_export(o);
		for (rows = 0; rows < 1000000; rows++) {
			if (out_player(&pl, o) != 0)
				break;
		}
		ok(rows < 10000, "output to %s: the rows stop after %zu",
		    dests[i].what, rows);
		ok(out_lost(o) == dests[i].err, "output to %s: %s is lost",
		    dests[i].what, strerror(dests[i].err));
		out_free(o);
		fclose(f);
	}
}

/* ---- util.c, directly ---- */

static void
run_parse_int(void)
{
	static const struct {
		const char	*s;
		long long	 lo, hi;
		int		 rc;
		long long	 v;
	} t[] = {
		{ "0", 0, INT_LIMIT, 0, 0 },
		{ "7", 0, INT_LIMIT, 0, 7 },
		{ "007", 0, INT_LIMIT, 0, 7 },
		{ "2147483647", 0, INT_LIMIT, 0, 2147483647LL },
		{ "2147483648", 0, INT_LIMIT, -2, 0 },
		{ "99999999999999999999", 0, INT_LIMIT, -2, 0 },
		{ "9223372036854775807", 0, INT_LIMIT, -2, 0 },
		{ "", 0, INT_LIMIT, -1, 0 },
		{ "-1", 0, INT_LIMIT, -1, 0 },
		{ "+5", 0, INT_LIMIT, -1, 0 },
		{ " 5", 0, INT_LIMIT, -1, 0 },
		{ "5 ", 0, INT_LIMIT, -1, 0 },
		{ "12abc", 0, INT_LIMIT, -1, 0 },
		{ "0x10", 0, INT_LIMIT, -1, 0 },
		{ "1e3", 0, INT_LIMIT, -1, 0 },
		{ "1.0", 0, INT_LIMIT, -1, 0 },
		{ "0", 1, 65535, -2, 0 },
		{ "65535", 1, 65535, 0, 65535 },
		{ "65536", 1, 65535, -2, 0 },
		{ "-5", -10, 10, 0, -5 },
		{ "+5", -10, 10, 0, 5 },
		{ "-11", -10, 10, -2, 0 },
		{ "-", -10, 10, -1, 0 },
		{ "+", -10, 10, -1, 0 },
		{ "--5", -10, 10, -1, 0 },
		{ "-99999999999999999999", -10, 10, -2, 0 },
	};
	size_t		i;
	long long	v;
	int		rc;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		v = -424242;
		rc = parse_int_arg(t[i].s, t[i].lo, t[i].hi, &v);
		if (!ok(rc == t[i].rc && (rc != 0 ? v == -424242 :
		    v == t[i].v), "parse_int_arg(\"%s\", %lld, %lld) = %d",
		    t[i].s, t[i].lo, t[i].hi, t[i].rc))
			printf("#   got %d, value %lld\n", rc, v);
	}
}

static void
run_utf8(void)
{
	static const struct {
		const char	*s;
		size_t		 chars;
		size_t		 width;
		const char	*what;
	} t[] = {
		{ "", 0, 0, "empty" },
		{ "abc", 3, 3, "ASCII" },
		{ "\xc3\xa9t\xc3\xa9", 3, 3, "two-byte (\xc3\xa9t\xc3\xa9)" },
		{ "\xe4\xb8\xad\xe6\x96\x87", 2, 4, "CJK is wide" },
		{ "\xf0\x9f\x98\x80", 1, 2, "emoji is wide" },
		{ "e\xcc\x81", 2, 1, "a combining accent takes no column" },
		{ "\xef\xbd\x81", 1, 2, "fullwidth a" },
		{ "\xed\x95\x9c", 1, 2, "Hangul syllable" },
		{ "a\xffz", 3, 3, "an invalid byte counts one" },
		{ "\xc0\xaf", 2, 2, "an overlong sequence is two bytes" },
		{ "\xe4\xb8", 2, 2, "a truncated sequence" },
	};
	size_t	i, n, w;

	if (setlocale(LC_CTYPE, "C.UTF-8") == NULL)
		bail("no C.UTF-8 locale");
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		n = utf8_chars(t[i].s, strlen(t[i].s));
		if (!ok(n == t[i].chars, "utf8_chars: %s: %zu", t[i].what,
		    t[i].chars))
			printf("#   got %zu\n", n);
		w = utf8_width(t[i].s, strlen(t[i].s));
		if (!ok(w == t[i].width, "utf8_width: %s: %zu", t[i].what,
		    t[i].width))
			printf("#   got %zu\n", w);
	}
	setlocale(LC_CTYPE, "C");
	/* Where the C library knows no widths, CJK and emoji are still 2. */
	ok(utf8_width("\xe4\xb8\xad", 3) == 2,
	    "utf8_width: CJK is wide in the C locale too");
	ok(utf8_width("\xf0\x9f\x98\x80", 4) == 2,
	    "utf8_width: emoji is wide in the C locale too");
	ok(utf8_width("a\xc3\xa9", 3) == 2,
	    "utf8_width: a two-byte letter is one column in C too");
	/* The length is honoured, not the NUL. */
	ok(utf8_chars("abcdef", 3) == 3, "utf8_chars stops at the length");
	ok(utf8_width("\xe4\xb8\xad\xe6\x96\x87", 3) == 2,
	    "utf8_width stops at the length");
	setlocale(LC_CTYPE, "C");
}

static void
run_check_name(void)
{
	static const struct {
		const char	*s;
		size_t		 len;	/* 0: strlen */
		const char	*err;	/* NULL: valid */
	} t[] = {
		{ "bob", 0, NULL },
		{ "Bob Smith", 0, NULL },
		{ "", 0, "empty" },
		{ "abcdefghijklmnopqrstuvwxyz012345", 0, NULL },
		{ "abcdefghijklmnopqrstuvwxyz0123456", 0, "33 characters" },
		{ "\xf0\x9f\x98\x80", 0, NULL },
		{ "a\x01", 0, "control character (U+0001)" },
		{ "a\x7f", 0, "control character (U+007F)" },
		{ "a\xc2\x85", 0, "control character (U+0085)" },
		{ "a\xc2\xa0z", 0, NULL },
		{ "a\tb", 0, "control character (U+0009)" },
		{ "a\xc0\xaf", 0, "not valid UTF-8 (byte 2)" },
		{ "\xed\xa0\x80", 0, "not valid UTF-8 (byte 1)" },
		{ "\xf4\x90\x80\x80", 0, "not valid UTF-8" },
		{ "ab\x80", 0, "not valid UTF-8 (byte 3)" },
		{ "a\0b", 3, "control character (U+0000)" },
	};
	size_t	 i;
	char	*cause, *v;
	int	 rc;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		cause = NULL;
		rc = check_name(t[i].s, t[i].len ? t[i].len : strlen(t[i].s),
		    &cause);
		v = visible(t[i].s, t[i].len ? t[i].len : strlen(t[i].s), 40);
		if (t[i].err == NULL)
			ok(rc == 0, "check_name(\"%s\") accepts", v);
		else if (!ok(rc != 0 && cause != NULL &&
		    strstr(cause, t[i].err) != NULL,
		    "check_name(\"%s\") refuses: %s", v, t[i].err))
			printf("#   got %d: %s\n", rc, cause != NULL ? cause :
			    "(no cause)");
		free(v);
		free(cause);
	}
}

int
main(void)
{
	run_tokenize();
	run_check();
	run_settings();
	run_environ();
	run_csv();
	run_output();
	run_output_errors();
	run_parse_int();
	run_utf8();
	run_check_name();
	printf("1..%u\n", ntests);
	if (nfailed > 0)
		printf("# %u of %u failed\n", nfailed, ntests);
	return nfailed > 0;
}
