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
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tidbplay.h"
#include "output.h"

#define TABLE_HOLD	1000	/* rows held back to size the columns */
#define MAX_COLS	4

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
};

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

struct out *
out_new(FILE *f, enum format fmt)
{
	struct out	*o;

	o = xcalloc(1, sizeof *o);
	o->f = f;
	o->fmt = fmt;
	return o;
}

void
out_free(struct out *o)
{
	if (o == NULL)
		return;
	free(o->held);
	free(o);
}

void
out_set_format(struct out *o, enum format fmt)
{
	o->fmt = fmt;
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
			fputs(o->cols[i], o->f);
			fputs(i + 1 < ncols ? "," : "\r\n", o->f);
		}
	}
}

/* RFC 4180: quote when needed, double the quotes inside. */
static void
csv_write(FILE *f, const char *s, size_t len)
{
	size_t	i;

	if (len > 0 && strcspn(s, ",\"\r\n") == len && s[0] != ' ' &&
	    s[len - 1] != ' ') {
		fwrite(s, 1, len, f);
		return;
	}
	if (len == 0) {
		fputs("\"\"", f);
		return;
	}
	putc('"', f);
	for (i = 0; i < len; i++) {
		if (s[i] == '"')
			putc('"', f);
		putc(s[i], f);
	}
	putc('"', f);
}

static void
tsv_field(FILE *f, const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		switch (s[i]) {
		case '\t':
			fputs("\\t", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		default:
			putc(s[i], f);
			break;
		}
	}
}

static void
json_string(FILE *f, const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i;

	putc('"', f);
	for (i = 0; i < len; i++) {
		switch (p[i]) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (p[i] < 0x20 || p[i] == 0x7f)
				fprintf(f, "\\u%04x", p[i]);
			else
				putc(p[i], f);
			break;
		}
	}
	putc('"', f);
}

static void
pad(FILE *f, size_t n)
{
	while (n-- > 0)
		putc(' ', f);
}

static void
table_rule(struct out *o)
{
	int	i;
	size_t	j;

	for (i = 0; i < o->ncols; i++) {
		putc('+', o->f);
		for (j = 0; j < o->width[i] + 2; j++)
			putc('-', o->f);
	}
	fputs("+\n", o->f);
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
		fputs("| ", o->f);
		if (o->num[i])
			pad(o->f, o->width[i] > w ? o->width[i] - w : 0);
		fwrite(v, 1, vl, o->f);
		if (!o->num[i])
			pad(o->f, o->width[i] > w ? o->width[i] - w : 0);
		putc(' ', o->f);
	}
	fputs("|\n", o->f);
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

/* A C1 control character, U+0080 to U+009F, in UTF-8. */
#define IS_C1(p, i, len) ((p)[i] == 0xc2 && (i) + 1 < (len) && \
	(p)[(i) + 1] >= 0x80 && (p)[(i) + 1] < 0xa0)

/*
 * Text for people (table, vertical): control characters are shown as
 * \xNN, so that a name put in the table by another program never moves
 * the cursor, colours the terminal or breaks the table's lines. NULL when
 * there is nothing to escape.
 */
static char *
visible(const char *s, size_t len, size_t *outlen)
{
	const unsigned char	*p = (const unsigned char *)s;
	char			*buf, *w;
	size_t			 i;

	for (i = 0; i < len; i++) {
		if (p[i] < 0x20 || p[i] == 0x7f || IS_C1(p, i, len))
			break;
	}
	if (i == len)
		return NULL;
	buf = w = xmalloc(len * 4 + 1);
	for (i = 0; i < len; i++) {
		if (p[i] < 0x20 || p[i] == 0x7f || IS_C1(p, i, len)) {
			snprintf(w, 5, "\\x%02x", p[i]);
			w += 4;
			if (p[i] == 0xc2) {
				snprintf(w, 5, "\\x%02x", p[++i]);
				w += 4;
			}
		} else
			*w++ = (char)p[i];
	}
	*w = '\0';
	*outlen = (size_t)(w - buf);
	return buf;
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

	if (o->fmt != FMT_TABLE && o->fmt != FMT_AUTO &&
	    o->fmt != FMT_VERTICAL) {
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
		fprintf(o->f, "*************************** %lu. row "
		    "***************************\n", o->rows);
		for (i = 0; i < o->ncols; i++) {
			pad(o->f, 5 - strlen(o->cols[i]));
			fprintf(o->f, "%s: ", o->cols[i]);
			if (null[i])
				fputs("NULL", o->f);
			else
				fwrite(s[i], 1, len[i], o->f);
			putc('\n', o->f);
		}
		break;
	case FMT_TSV:
		for (i = 0; i < o->ncols; i++) {
			if (null[i])
				fputs("NULL", o->f);
			else
				tsv_field(o->f, s[i], len[i]);
			putc(i + 1 < o->ncols ? '\t' : '\n', o->f);
		}
		break;
	case FMT_CSV:
		for (i = 0; i < o->ncols; i++) {
			if (!null[i])
				csv_write(o->f, s[i], len[i]);
			fputs(i + 1 < o->ncols ? "," : "\r\n", o->f);
		}
		break;
	case FMT_JSON:
		putc('{', o->f);
		for (i = 0; i < o->ncols; i++) {
			fprintf(o->f, "%s\"%s\":", i ? "," : "", o->cols[i]);
			if (null[i])
				fputs("null", o->f);
			else if (o->num[i])
				fwrite(s[i], 1, len[i], o->f);
			else
				json_string(o->f, s[i], len[i]);
		}
		fputs("}\n", o->f);
		break;
	}
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
		fprintf(o->f, "(%lu row%s)\n", o->rows, o->rows == 1 ? "" : "s");
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

	len[0] = snprintf(id, sizeof id, "%lld", pl->id);
	len[2] = snprintf(coins, sizeof coins, "%lld", pl->coins);
	len[3] = snprintf(goods, sizeof goods, "%lld", pl->goods);
	s[0] = id;
	s[1] = pl->name;
	len[1] = pl->namelen;
	s[2] = coins;
	s[3] = goods;
	null[0] = 0;
	null[1] = pl->name_null;
	null[2] = pl->coins_null;
	null[3] = pl->goods_null;
	out_row(o, s + o->noid, len + o->noid, null + o->noid);
	return ferror(o->f) ? -1 : 0;
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
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOCTTY |
		    O_CLOEXEC, 0666);
		d->existing = 1;
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
