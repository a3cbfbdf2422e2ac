/*
 * Result writers: table, vertical, tsv, csv, json. Rows stream through;
 * only the table writer holds rows back, a bounded number, to size its
 * columns.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tidbplay.h"
#include "output.h"

#define TABLE_HOLD	1000	/* rows held back to size the columns */
#define MAX_COLS	4
#define OUT_BUFSIZE	65536	/* what the writer holds before a write */

struct held {
	char	*s[MAX_COLS];
	size_t	 len[MAX_COLS];
	char	 null[MAX_COLS];
};

struct out {
	FILE		*f;
	enum format	 fmt;
	const char	*cols[MAX_COLS];
	int		 num[MAX_COLS];
	int		 ncols;
	unsigned long	 rows;
	size_t		 width[MAX_COLS];
	struct held	*held;
	size_t		 nheld;
	int		 flushed;	/* the table's header is out */
	int		 noid;		/* players without their id (export) */
	int		 err;		/* errno of the first failed write */
	int		 lost;		/* output lost since out_mark */
	int		 tty;		/* a terminal: everything escaped */
	char		*buf;		/* bytes not yet handed to f */
	size_t		 blen;
};

/*
 * What each byte means to the writers, so that a field is scanned with
 * one table look-up a byte (strchr for every byte was an eighth of what
 * export cost).
 */
#define B_TSV		0x01	/* tsv escapes it: tab, LF, CR, backslash */
#define B_CSV		0x02	/* csv quotes the field: comma, quote, CR, LF */
#define B_QUOTE		0x04	/* doubled inside csv's quotes */
#define B_JSON		0x08	/* json escapes it: quote, backslash, controls */
#define B_UNSAFE	0x10	/* may start a character unsafe_char_at refuses */

static unsigned char	byte_class[256];

static void
byte_class_init(void)
{
	int	c;

	if (byte_class['\\'] != 0)
		return;
	for (c = 0; c < 0x20; c++)
		byte_class[c] |= B_JSON | B_UNSAFE;
	byte_class[0x7f] |= B_JSON | B_UNSAFE;
	byte_class['\t'] |= B_TSV;
	byte_class['\n'] |= B_TSV | B_CSV;
	byte_class['\r'] |= B_TSV | B_CSV;
	byte_class['\\'] |= B_TSV | B_JSON;
	byte_class[','] |= B_CSV;
	byte_class['"'] |= B_CSV | B_QUOTE | B_JSON;
	/* The lead bytes of the multibyte characters unsafe_char_at names. */
	byte_class[0xc2] |= B_UNSAFE;
	byte_class[0xd8] |= B_UNSAFE;
	byte_class[0xe2] |= B_UNSAFE;
	byte_class[0xef] |= B_UNSAFE;
}

/* The writer on standard output, flushed before every diagnostic. */
static struct out	*stdout_out;

static const char *formats[] = { "table", "vertical", "tsv", "csv", "json" };

int
parse_format(const char *s, enum format *fmt)
{
	size_t	i;

	for (i = 0; i < sizeof formats / sizeof formats[0]; i++) {
		if (strcmp(s, formats[i]) == 0) {
			*fmt = (enum format)i;
			return 0;
		}
	}
	return -1;
}

const char *
format_name(enum format fmt)
{
	if (fmt == FMT_AUTO)
		return "auto";
	return formats[fmt];
}

/*
 * Every byte goes out through o_write and o_putc into the writer's own
 * buffer, which o_drain hands to the stream in large writes (a row is a
 * few dozen bytes; a call into stdio for each of its pieces was most of
 * what export cost). A failed write's errno is read at once, before
 * anything can change it, and once a write has failed nothing more is
 * tried: the result is lost, and out_lost says so.
 *
 * The buffer is drained whenever anything else may look at the stream:
 * at the end of every call but out_row and out_player (rows in a stream),
 * after every row at a terminal (rows appear as they come), when asked
 * (out_flush, out_error, out_lost, and before every diagnostic), and when
 * it is full.
 */
static void
o_fwrite(struct out *o, const char *s, size_t len)
{
	/*
	 * glibc's fwrite reports the whole count when the flush of a line
	 * buffer fails (the pager's stream is one): the error flag says it.
	 */
	if (len > 0 && (fwrite(s, 1, len, o->f) != len || ferror(o->f))) {
		o->err = errno != 0 ? errno : EIO;
		o->lost = 1;
	}
}

static void
o_drain(struct out *o)
{
	if (o->blen == 0)
		return;
	if (o->err == 0)
		o_fwrite(o, o->buf, o->blen);
	else
		o->lost = 1;
	o->blen = 0;
}

static void
o_write(struct out *o, const char *s, size_t len)
{
	if (o->err != 0) {
		o->lost = 1;
		return;
	}
	if (len > OUT_BUFSIZE - o->blen) {
		o_drain(o);
		if (o->err != 0)
			return;
		if (len >= OUT_BUFSIZE) {
			o_fwrite(o, s, len);
			return;
		}
	}
	memcpy(o->buf + o->blen, s, len);
	o->blen += len;
}

static void
o_puts(struct out *o, const char *s)
{
	o_write(o, s, strlen(s));
}

static void
o_putc(struct out *o, char c)
{
	if (o->blen < OUT_BUFSIZE && o->err == 0)
		o->buf[o->blen++] = c;
	else
		o_write(o, &c, 1);
}

/*
 * The decimal digits of v, written backwards to end at end; returns where
 * they start. snprintf's formatting of each number was a sixth of what
 * export cost.
 */
static char *
decimal(char *end, long long v)
{
	unsigned long long	u;
	char			*p = end;

	u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	return p;
}

static void
o_printf(struct out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
o_printf(struct out *o, const char *fmt, ...)
{
	va_list	 ap;
	char	 buf[256], *big = NULL;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof buf) {
		va_start(ap, fmt);
		n = xvasprintf(&big, fmt, ap);
		va_end(ap);
	}
	o_write(o, big != NULL ? big : buf, (size_t)n);
	free(big);
}

/* Text as it is (help): through the writer, so that a failure is seen. */
void
out_text(struct out *o, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 n;

	va_start(ap, fmt);
	n = xvasprintf(&s, fmt, ap);
	va_end(ap);
	o_write(o, s, (size_t)n);
	free(s);
	o_drain(o);
}

/* Before a diagnostic on stderr: the results before it are out first. */
static void
flush_stdout_out(void)
{
	if (stdout_out != NULL)
		out_flush(stdout_out);
	else
		fflush(stdout);
}

/*
 * The stream was closed when tidbplay started (and is /dev/null now):
 * every result meant for it is lost, and said so.
 */
void
out_closed(struct out *o)
{
	o->err = EBADF;
}

/* What is buffered goes out now; when it cannot, results were lost. */
int
out_flush(struct out *o)
{
	o_drain(o);
	if (o->err == 0 && fflush(o->f) != 0) {
		o->err = errno != 0 ? errno : EIO;
		o->lost = 1;
	}
	return o->err;
}

/*
 * A command ended. Away from a terminal its results go out now, so that
 * a full disk or a closed pipe is that command's failure, seen before the
 * next command runs, rather than one error at exit with no place.
 */
int
out_command_end(struct out *o)
{
	if (!o->tty)
		(void)out_flush(o);
	return out_lost(o);
}

/* errno of the first write that failed, or 0. */
int
out_error(struct out *o)
{
	o_drain(o);
	return o->err;
}

/* A command starts: out_lost tells what became of its results. */
void
out_mark(struct out *o)
{
	o_drain(o);
	o->lost = 0;
}

/* errno when some result since out_mark could not be written, else 0. */
int
out_lost(struct out *o)
{
	o_drain(o);
	return o->lost ? o->err : 0;
}

struct out *
out_new(FILE *f, enum format fmt)
{
	struct out	*o;

	o = xcalloc(1, sizeof *o);
	o->f = f;
	o->fmt = fmt;
	o->tty = isatty(fileno(f));
	o->buf = xmalloc(OUT_BUFSIZE);
	byte_class_init();
	if (f == stdout) {
		stdout_out = o;
		diag_flush_hook(flush_stdout_out);
	}
	return o;
}

void
out_free(struct out *o)
{
	if (o == NULL)
		return;
	o_drain(o);
	if (o == stdout_out) {
		stdout_out = NULL;
		diag_flush_hook(NULL);
	}
	free(o->held);
	free(o->buf);
	free(o);
}

void
out_set_format(struct out *o, enum format fmt)
{
	o_drain(o);
	o->fmt = fmt;
}

/*
 * Where the results go: the terminal's pager points them at its stream,
 * and back. A write error belonged to the stream replaced (the pager's,
 * gone with EPIPE), so it is forgotten.
 */
void
out_set_file(struct out *o, FILE *f)
{
	o_drain(o);
	o->f = f;
	o->err = 0;
	o->lost = 0;
}

enum format
out_format(const struct out *o)
{
	return o->fmt;
}

/* Column names; a leading '#' marks a numeric column. */
void
out_begin(struct out *o, const char *const *cols, int ncols)
{
	int	i;

	o->ncols = ncols;
	o->noid = 0;
	o->rows = 0;
	o->nheld = 0;
	o->flushed = 0;
	for (i = 0; i < ncols; i++) {
		o->num[i] = cols[i][0] == '#';
		o->cols[i] = cols[i] + o->num[i];
		o->width[i] = utf8_width(o->cols[i], strlen(o->cols[i]));
	}
	if (o->fmt == FMT_CSV) {
		for (i = 0; i < ncols; i++) {
			o_puts(o, o->cols[i]);
			o_puts(o, i + 1 < ncols ? "," : "\r\n");
		}
	}
}


/*
 * Text for a terminal: every byte of such a character shown as \xNN. NULL
 * when there is nothing to escape. The stored bytes never change; only
 * what a person sees does.
 */
static char *
visible(const char *s, size_t len, size_t *outlen)
{
	const unsigned char	*p = (const unsigned char *)s;
	char			*buf, *w;
	size_t			 i, n;

	for (i = 0; i < len && unsafe_char_at(p, i, len) == 0; i++)
		;
	if (i == len)
		return NULL;
	buf = w = xmalloc(len * 4 + 1);
	for (i = 0; i < len; i++) {
		if ((n = unsafe_char_at(p, i, len)) == 0) {
			*w++ = (char)p[i];
			continue;
		}
		for (; n > 0; n--, i++) {
			snprintf(w, 5, "\\x%02x", p[i]);
			w += 4;
		}
		i--;
	}
	*w = '\0';
	*outlen = (size_t)(w - buf);
	return buf;
}

/* The length of s's first run without a byte of class mask. */
static size_t
run_without(const char *s, size_t len, unsigned char mask)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i;

	for (i = 0; i < len && (byte_class[p[i]] & mask) == 0; i++)
		;
	return i;
}

/* RFC 4180: quote when needed, double the quotes inside. */
static void
csv_write(struct out *o, const char *s, size_t len)
{
	size_t	i, n;

	if (len > 0 && run_without(s, len, B_CSV) == len &&
	    s[0] != ' ' && s[len - 1] != ' ') {
		o_write(o, s, len);
		return;
	}
	o_putc(o, '"');
	for (i = 0; i < len; i += n) {
		n = run_without(s + i, len - i, B_QUOTE);
		o_write(o, s + i, n);
		if (i + n < len) {
			o_write(o, "\"\"", 2);
			n++;
		}
	}
	o_putc(o, '"');
}

/* Each byte of a character that must not reach a terminal, as \xNN. */
static void
hex_bytes(struct out *o, const unsigned char *p, size_t n)
{
	static const char	hex[] = "0123456789abcdef";
	char			x[4] = { '\\', 'x', 0, 0 };

	for (; n > 0; n--, p++) {
		x[2] = hex[*p >> 4];
		x[3] = hex[*p & 0xf];
		o_write(o, x, 4);
	}
}

/*
 * tsv's escapes for a tab, newline, carriage return and backslash; at a
 * terminal, \xNN for the other characters that must not reach one as
 * they are.
 */
static void
tsv_field(struct out *o, const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	const char		*esc;
	unsigned char		 mask = o->tty ? B_TSV | B_UNSAFE : B_TSV;
	size_t			 i = 0, start = 0, n;

	for (;;) {
		i += run_without(s + i, len - i, mask);
		if (i == len)
			break;
		esc = p[i] == '\t' ? "\\t" : p[i] == '\n' ? "\\n" :
		    p[i] == '\r' ? "\\r" : p[i] == '\\' ? "\\\\" : NULL;
		n = esc != NULL ? 1 : unsafe_char_at(p, i, len);
		if (n == 0) {
			i++;
			continue;
		}
		o_write(o, s + start, i - start);
		if (esc != NULL)
			o_write(o, esc, 2);
		else
			hex_bytes(o, p + i, n);
		i += n;
		start = i;
	}
	o_write(o, s + start, len - start);
}

static void
json_string(struct out *o, const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	unsigned char		 mask = o->tty ? B_JSON | B_UNSAFE : B_JSON;
	size_t			 i = 0, n;

	o_putc(o, '"');
	for (;;) {
		n = run_without(s + i, len - i, mask);
		o_write(o, s + i, n);
		if ((i += n) == len)
			break;
		switch (p[i]) {
		case '"':
			o_write(o, "\\\"", 2);
			break;
		case '\\':
			o_write(o, "\\\\", 2);
			break;
		case '\n':
			o_write(o, "\\n", 2);
			break;
		case '\r':
			o_write(o, "\\r", 2);
			break;
		case '\t':
			o_write(o, "\\t", 2);
			break;
		default:
			if (p[i] < 0x20 || p[i] == 0x7f)
				o_printf(o, "\\u%04x", p[i]);
			else if (o->tty && (n = unsafe_char_at(p, i, len)) > 1) {
				o_printf(o, "\\u%04x", n == 2 ?
				    (p[i] & 0x1f) << 6 | (p[i + 1] & 0x3f) :
				    (p[i] & 0x0f) << 12 |
				    (p[i + 1] & 0x3f) << 6 | (p[i + 2] & 0x3f));
				i += n - 1;
			} else
				o_putc(o, (char)p[i]);
			break;
		}
		i++;
	}
	o_putc(o, '"');
}

static void
pad(struct out *o, size_t n)
{
	static const char	spaces[] = "                                ";

	while (n > 0) {
		size_t k = n < sizeof spaces - 1 ? n : sizeof spaces - 1;

		o_write(o, spaces, k);
		n -= k;
	}
}

static void
table_rule(struct out *o)
{
	int	i;
	size_t	j;

	for (i = 0; i < o->ncols; i++) {
		o_putc(o, '+');
		for (j = 0; j < o->width[i] + 2; j++)
			o_putc(o, '-');
	}
	o_puts(o, "+\n");
}

static void
table_line(struct out *o, const char *const *s, const size_t *len,
    const char *null)
{
	size_t	w;
	int	i;

	for (i = 0; i < o->ncols; i++) {
		const char *v = null[i] ? "NULL" : s[i];
		size_t vl = null[i] ? 4 : len[i];

		w = utf8_width(v, vl);
		o_puts(o, "| ");
		if (o->num[i])
			pad(o, o->width[i] > w ? o->width[i] - w : 0);
		o_write(o, v, vl);
		if (!o->num[i])
			pad(o, o->width[i] > w ? o->width[i] - w : 0);
		o_putc(o, ' ');
	}
	o_puts(o, "|\n");
}

static void
table_flush(struct out *o)
{
	static const char	 none[MAX_COLS];
	size_t			 lens[MAX_COLS], i;
	int			 c;

	if (!o->flushed) {
		for (c = 0; c < o->ncols; c++)
			lens[c] = strlen(o->cols[c]);
		table_rule(o);
		table_line(o, o->cols, lens, none);
		table_rule(o);
		o->flushed = 1;
	}
	for (i = 0; i < o->nheld; i++) {
		struct held *h = &o->held[i];

		table_line(o, (const char *const *)h->s, h->len, h->null);
		for (c = 0; c < o->ncols; c++)
			free(h->s[c]);
	}
	o->nheld = 0;
}

static void	out_row_as_is(struct out *, const char *const *, const size_t *,
		    const char *);

void
out_row(struct out *o, const char *const *s, const size_t *len,
    const char *null)
{
	const char	*vs[MAX_COLS];
	char		*esc[MAX_COLS];
	size_t		 vlen[MAX_COLS];
	int		 i, any = 0;

	/* tsv and json escape in their own way (tsv_field, json_string). */
	if (o->fmt != FMT_TABLE && o->fmt != FMT_AUTO &&
	    o->fmt != FMT_VERTICAL && (o->fmt != FMT_CSV || !o->tty)) {
		out_row_as_is(o, s, len, null);
		return;
	}
	for (i = 0; i < o->ncols; i++) {
		vs[i] = s[i];
		vlen[i] = len[i];
		esc[i] = null[i] ? NULL : visible(s[i], len[i], &vlen[i]);
		if (esc[i] != NULL) {
			vs[i] = esc[i];
			any = 1;
		}
	}
	out_row_as_is(o, any ? vs : s, any ? vlen : len, null);
	for (i = 0; i < o->ncols; i++)
		free(esc[i]);
}

static void
out_row_as_is(struct out *o, const char *const *s, const size_t *len,
    const char *null)
{
	int	i;
	size_t	w;

	o->rows++;
	switch (o->fmt) {
	case FMT_AUTO:
	case FMT_TABLE:
		for (i = 0; i < o->ncols; i++) {
			w = null[i] ? 4 : utf8_width(s[i], len[i]);
			if (w > o->width[i])
				o->width[i] = w;
		}
		if (o->flushed) {
			table_line(o, s, len, null);
			break;
		}
		if (o->held == NULL)
			o->held = xcalloc(TABLE_HOLD, sizeof *o->held);
		for (i = 0; i < o->ncols; i++) {
			o->held[o->nheld].s[i] = xstrndup(s[i], len[i]);
			o->held[o->nheld].len[i] = len[i];
			o->held[o->nheld].null[i] = null[i];
		}
		if (++o->nheld == TABLE_HOLD)
			table_flush(o);
		break;
	case FMT_VERTICAL:
		o_printf(o, "*************************** %lu. row "
		    "***************************\n", o->rows);
		for (i = 0; i < o->ncols; i++) {
			pad(o, 5 - strlen(o->cols[i]));
			o_printf(o, "%s: ", o->cols[i]);
			if (null[i])
				o_puts(o, "NULL");
			else
				o_write(o, s[i], len[i]);
			o_putc(o, '\n');
		}
		break;
	case FMT_TSV:
		for (i = 0; i < o->ncols; i++) {
			if (null[i])
				o_write(o, "NULL", 4);
			else
				tsv_field(o, s[i], len[i]);
			o_putc(o, i + 1 < o->ncols ? '\t' : '\n');
		}
		break;
	case FMT_CSV:
		for (i = 0; i < o->ncols; i++) {
			if (!null[i])
				csv_write(o, s[i], len[i]);
			if (i + 1 < o->ncols)
				o_putc(o, ',');
			else
				o_write(o, "\r\n", 2);
		}
		break;
	case FMT_JSON:
		o_putc(o, '{');
		for (i = 0; i < o->ncols; i++) {
			if (i > 0)
				o_putc(o, ',');
			o_putc(o, '"');
			o_puts(o, o->cols[i]);
			o_write(o, "\":", 2);
			if (null[i])
				o_puts(o, "null");
			else if (o->num[i])
				o_write(o, s[i], len[i]);
			else
				json_string(o, s[i], len[i]);
		}
		o_write(o, "}\n", 2);
		break;
	}
	if (o->tty)
		o_drain(o);
}

void
out_end(struct out *o)
{
	if (o->fmt == FMT_TABLE || o->fmt == FMT_AUTO) {
		table_flush(o);
		table_rule(o);
	}
	if (o->fmt == FMT_TABLE || o->fmt == FMT_AUTO ||
	    o->fmt == FMT_VERTICAL)
		o_printf(o, "(%lu row%s)\n", o->rows, o->rows == 1 ? "" : "s");
	o_drain(o);
}

/*
 * A player row through the writer; the callback shape of db_rows. Without
 * its id after out_begin_export.
 */
int
out_player(const struct player *pl, void *arg)
{
	struct out	*o = arg;
	char		 id[24], coins[24], goods[24];
	const char	*s[4];
	size_t		 len[4];
	char		 null[4];

	s[0] = decimal(id + sizeof id, pl->id);
	len[0] = (size_t)(id + sizeof id - s[0]);
	s[1] = pl->name;
	len[1] = pl->namelen;
	s[2] = decimal(coins + sizeof coins, pl->coins);
	len[2] = (size_t)(coins + sizeof coins - s[2]);
	s[3] = decimal(goods + sizeof goods, pl->goods);
	len[3] = (size_t)(goods + sizeof goods - s[3]);
	null[0] = 0;
	null[1] = pl->name_null;
	null[2] = pl->coins_null;
	null[3] = pl->goods_null;
	out_row(o, s + o->noid, len + o->noid, null + o->noid);
	return o->err != 0 ? -1 : 0;
}

void
out_begin_players(struct out *o)
{
	static const char *const cols[] = { "#id", "name", "#coins", "#goods" };

	out_begin(o, cols, 4);
}

/* export's CSV, which import reads back: the players without their ids. */
void
out_begin_export(struct out *o)
{
	static const char *const cols[] = { "name", "#coins", "#goods" };

	out_begin(o, cols, 3);
	o->noid = 1;
}

/* A single number, as a one-column result. */
void
out_number(struct out *o, const char *col, long long v)
{
	char		 buf[24], name[32];
	const char	*s[1] = { buf }, *cols[1] = { name };
	size_t		 len[1];
	char		 null[1] = { 0 };

	snprintf(name, sizeof name, "#%s", col);
	len[0] = snprintf(buf, sizeof buf, "%lld", v);
	out_begin(o, cols, 1);
	out_row(o, s, len, null);
	if (o->fmt == FMT_TABLE || o->fmt == FMT_AUTO) {
		table_flush(o);
		table_rule(o);
	}
	o_drain(o);
}

/* One object on a line: what a command did, for programs. */
void
out_object(struct out *o, const struct field *f, int n)
{
	int	i, first = 1;

	o_putc(o, '{');
	for (i = 0; i < n; i++) {
		if (f[i].key == NULL)
			continue;
		o_printf(o, "%s\"%s\":", first ? "" : ",", f[i].key);
		first = 0;
		if (f[i].type == F_INT)
			o_printf(o, "%lld", f[i].n);
		else if (f[i].type == F_BOOL)
			o_puts(o, f[i].n ? "true" : "false");
		else if (f[i].s == NULL)
			o_puts(o, "null");
		else
			json_string(o, f[i].s, strlen(f[i].s));
	}
	o_puts(o, "}\n");
	o_drain(o);
}

#define LABEL_WIDTH	13	/* "transaction: " */

/*
 * A result that is not rows (status, a setting's value): one JSON object
 * in json, else a "label: value" line for each field, or the value alone.
 */
void
out_fields(struct out *o, const struct field *f, int n)
{
	size_t	len;
	int	i;

	if (o->fmt == FMT_JSON) {
		out_object(o, f, n);
		return;
	}
	for (i = 0; i < n; i++) {
		if (f[i].label == NULL || (f[i].type == F_STR && f[i].s == NULL))
			continue;
		len = strlen(f[i].label);
		if (len > 0)
			o_printf(o, "%s:%*s", f[i].label, len + 1 < LABEL_WIDTH ?
			    (int)(LABEL_WIDTH - 1 - len) : 1, "");
		if (f[i].type == F_INT)
			o_printf(o, "%lld\n", f[i].n);
		else if (f[i].type == F_BOOL)
			o_puts(o, f[i].n ? "on\n" : "off\n");
		else
			o_printf(o, "%s\n", f[i].s);
	}
	o_drain(o);
}

/*
 * Where export writes: into the path, as a shell's redirect or psql's \o
 * does, so that an existing file keeps its mode, owner and inode, a
 * symlink its target, and a FIFO or a device is written through. Our own
 * standard output, under any name, is written as standard output. Only a
 * new file can be all or nothing: it is written beside the path and linked
 * into place when complete, with the mode the umask gives (open's 0666).
 */
int
dest_open(struct dest *d, const char *path, char **cause)
{
	struct stat	 st, out;
	char		*dir;
	unsigned int	 tries;
	int		 fd;

	memset(d, 0, sizeof *d);
	d->path = path;
	d->f = stdout;
	fflush(stdout);
	if (strcmp(path, "-") == 0)
		return 0;
	if (stat(path, &st) == 0 && fstat(STDOUT_FILENO, &out) == 0 &&
	    st.st_dev == out.st_dev && st.st_ino == out.st_ino)
		return 0;
	if (lstat(path, &st) == 0 || errno != ENOENT) {
		/* A FIFO waits for its reader; Ctrl-C ends the wait. */
		fd = open_interruptible(path, O_WRONLY | O_CREAT | O_TRUNC |
		    O_NOCTTY | O_CLOEXEC, 0666);
		d->existing = 1;
		if (fd == -1 && errno == EINTR) {
			xasprintf(cause, "cancelled while waiting for a reader "
			    "of %s; nothing was exported", path);
			d->f = NULL;
			return -1;
		}
	} else {
		dir = xstrdup(path);
		for (tries = 0; tries < 100; tries++) {
			free(d->tmp);
			xasprintf(&d->tmp, "%s/.tidbplay-export-%06lx",
			    dirname(dir), random() & 0xffffff);
			fd = open(d->tmp, O_WRONLY | O_CREAT | O_EXCL |
			    O_CLOEXEC, 0666);
			if (fd != -1 || errno != EEXIST)
				break;
		}
		free(dir);
	}
	if (fd == -1 || (d->f = fdopen(fd, "w")) == NULL) {
		xasprintf(cause, "%s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		if (d->tmp != NULL)
			unlink(d->tmp);
		free(d->tmp);
		d->tmp = NULL;
		d->f = NULL;
		return -1;
	}
	return 0;
}

/* A new file appears whole, and never over one made meanwhile. */
static int
dest_link(struct dest *d, char **cause)
{
	if (fsync(fileno(d->f)) != 0) {
		xasprintf(cause, "%s: %s", d->path, strerror(errno));
		return -1;
	}
	if (link(d->tmp, d->path) == 0)
		return 0;
	if (errno == EEXIST) {
		xasprintf(cause, "%s: made by someone else during the export; "
		    "left as it is, nothing exported", d->path);
		return -1;
	}
	/* A file system without hard links. */
	if (rename(d->tmp, d->path) == 0)
		return 0;
	xasprintf(cause, "%s: %s", d->path, strerror(errno));
	return -1;
}

/*
 * Done writing: ok when every row was written. Fails with *cause when the
 * rows could not all reach the path.
 */
int
dest_close(struct dest *d, int ok, char **cause)
{
	int	rc = 0;

	if (d->f == stdout || d->f == NULL)
		return 0;
	if (fflush(d->f) != 0 && ok) {
		xasprintf(cause, "%s: %s", d->path, strerror(errno));
		ok = 0;
		rc = -1;
	}
	if (ok && d->tmp != NULL && dest_link(d, cause) != 0)
		rc = -1;
	if (fclose(d->f) != 0 && rc == 0 && ok) {
		xasprintf(cause, "%s: %s", d->path, strerror(errno));
		rc = -1;
	}
	if (d->tmp != NULL) {
		unlink(d->tmp);
		free(d->tmp);
	}
	d->f = NULL;
	d->tmp = NULL;
	return rc;
}
