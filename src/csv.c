/*
 * A streaming RFC 4180 reader: quoted fields with doubled quotes and line
 * breaks, CRLF or LF, a UTF-8 byte order mark at the start, blank lines
 * skipped. Fields and records are bounded, so hostile input cannot take
 * unbounded memory. It reads its bytes once, in chunks, from a struct
 * input: a file, or standard input as the line source holds it, where the
 * data may end at a line "\." and the commands go on after it.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tidbplay.h"

#define CSV_FIELD_MAX	1024
#define CSV_FIELDS_MAX	16
#define CSV_CHUNK	65536

struct csv {
	struct input	*in;
	const char	*path;
	const char	*base;		/* the chunk being read */
	const char	*p;
	const char	*end;
	int		 eof;		/* 1 at the end, -1 after a read error */
	int		 read_errno;
	int		 marker;	/* a line "\." ends the data */
	int		 last;		/* the byte before the chunk */
	unsigned long	 line;		/* where the current record starts */
	unsigned long	 next;		/* the line the reader is on */
	int		 started;
	int		 quoted;	/* the record's first field was quoted */
	char		 buf[CSV_FIELDS_MAX * (CSV_FIELD_MAX + 1)];
	size_t		 off[CSV_FIELDS_MAX];
	size_t		 len[CSV_FIELDS_MAX];
	unsigned int	 n;
	unsigned int	 ncols;		/* fields the header has */
};

/* ---- inputs over a file descriptor ---- */

struct fd_input {
	struct input	 in;
	int		 fd;
	size_t		 start;
	size_t		 end;
	char		 buf[CSV_CHUNK];
};

/*
 * Wait for input, asking the input's cancelled() ten times a second: a
 * terminal where rows are typed may be given Ctrl-C instead.
 */
static int
fd_wait(struct fd_input *fi)
{
	struct pollfd	pfd = { fi->fd, POLLIN, 0 };

	while (poll(&pfd, 1, 100) != 1) {
		if (fi->in.cancelled(fi->in.cancel_arg)) {
			errno = ECANCELED;
			return -1;
		}
	}
	return 0;
}

static int
fd_next(void *arg, const char **p, size_t *len)
{
	struct fd_input	*fi = arg;
	ssize_t		 n;

	if (fi->start == fi->end) {
		if (fi->in.cancelled != NULL && fd_wait(fi) != 0)
			return -1;
		do
			n = read(fi->fd, fi->buf, sizeof fi->buf);
		while (n == -1 && errno == EINTR);
		if (n <= 0)
			return n == 0 ? 0 : -1;
		fi->start = 0;
		fi->end = (size_t)n;
	}
	*p = fi->buf + fi->start;
	*len = fi->end - fi->start;
	fi->start = fi->end;
	return 1;
}

static void
fd_unread(void *arg, size_t n)
{
	struct fd_input	*fi = arg;

	fi->start -= n;
}

/* The bytes of fd, which stays the caller's to close. */
struct input *
input_fd(int fd)
{
	struct fd_input	*fi;

	fi = xcalloc(1, sizeof *fi);
	fi->fd = fd;
	fi->in.next = fd_next;
	fi->in.unread = fd_unread;
	fi->in.arg = fi;
	fi->in.line = 1;
	return &fi->in;
}

void
input_free(struct input *in)
{
	free(in->arg);
}

/*
 * Back to the start, to read it all again: only a regular file can, not
 * a pipe, a FIFO or a terminal.
 */
int
input_rewind(struct input *in)
{
	struct fd_input	*fi;
	struct stat	 sb;

	if (in->next != fd_next)
		return -1;
	fi = in->arg;
	if (fstat(fi->fd, &sb) != 0 || !S_ISREG(sb.st_mode) ||
	    lseek(fi->fd, 0, SEEK_SET) != 0)
		return -1;
	fi->start = fi->end = 0;
	in->line = 1;
	return 0;
}

/*
 * Standard input when no line source holds it (-e, -f FILE, a terminal):
 * one for the process, so that what a first import - read past its "\."
 * is there for the next.
 */
struct input *
input_stdin(void)
{
	static struct fd_input	 fi;

	if (fi.in.next == NULL) {
		fi.fd = STDIN_FILENO;
		fi.in.next = fd_next;
		fi.in.unread = fd_unread;
		fi.in.arg = &fi;
		fi.in.line = 1;
	}
	return &fi.in;
}

/* ---- the reader ---- */

/* marker: a line "\." ends the data, as psql's \copy ... from stdin has it. */
struct csv *
csv_open(struct input *in, const char *path, int marker)
{
	struct csv	*c;

	c = xcalloc(1, sizeof *c);
	c->in = in;
	c->path = path;
	c->marker = marker;
	c->next = in->line;
	c->last = '\n';
	return c;
}

/* What was not read goes back to the input, which is on line next now. */
void
csv_close(struct csv *c)
{
	if (c->p < c->end && c->in->unread != NULL)
		c->in->unread(c->in->arg, (size_t)(c->end - c->p));
	c->in->line = c->next;
	free(c);
}

static int
refill(struct csv *c)
{
	const char	*p;
	size_t		 len;
	int		 rc;

	if (c->eof != 0)
		return EOF;
	do
		rc = c->in->next(c->in->arg, &p, &len);
	while (rc == 1 && len == 0);
	if (rc != 1) {
		c->eof = rc == 0 ? 1 : -1;
		c->read_errno = errno;
		return EOF;
	}
	if (c->end != NULL)
		c->last = (unsigned char)c->end[-1];
	c->base = c->p = p;
	c->end = p + len;
	return (unsigned char)*c->p++;
}

static inline int
getch(struct csv *c)
{
	if (c->p < c->end)
		return (unsigned char)*c->p++;
	return refill(c);
}

/* Only the byte just read goes back, so it is in the chunk. */
static inline void
ungetch(struct csv *c, int ch)
{
	if (ch != EOF)
		c->p--;
}

unsigned int
csv_nfields(const struct csv *c)
{
	return c->n;
}

const char *
csv_field(const struct csv *c, unsigned int i, size_t *len)
{
	*len = c->len[i];
	return c->buf + c->off[i];
}

unsigned long
csv_line(const struct csv *c)
{
	return c->line;
}

static void
csv_error(struct csv *c, char **cause, const char *msg)
{
	xasprintf(cause, "%s:%lu: %s", c->path, c->next, msg);
}

/* Blank lines hold no record, as spreadsheet and Python readers agree. */
static int
skip_blank(struct csv *c, char **cause)
{
	int	ch;

	for (;;) {
		if ((ch = getch(c)) == '\n') {
			c->next++;
			continue;
		}
		if (ch == '\r') {
			if (getch(c) != '\n') {
				csv_error(c, cause, "carriage return without a "
				    "line feed");
				return -2;
			}
			c->next++;
			continue;
		}
		return ch;
	}
}

/* One field into c->buf; returns the byte that ended it, or -2. */
static int
read_field(struct csv *c, char **cause)
{
	char	*w = c->buf + c->off[c->n];
	size_t	 n = 0;
	int	 ch, quoted = 0, after = 0;

	if ((ch = getch(c)) == '"') {
		quoted = 1;
		ch = getch(c);
	}
	if (c->n == 0)
		c->quoted = quoted;
	for (;; ch = getch(c)) {
		if (ch == '\0') {
			csv_error(c, cause, "NUL byte");
			return -2;
		}
		if (quoted && !after) {
			if (ch == EOF) {
				xasprintf(cause, "%s:%lu: quoted field never "
				    "closed", c->path, c->line);
				return -2;
			}
			if (ch == '"') {
				if ((ch = getch(c)) != '"') {
					after = 1;
					ungetch(c, ch);
					continue;
				}
			} else if (ch == '\n')
				c->next++;
		} else {
			if (ch == ',' || ch == '\n' || ch == EOF)
				break;
			if (ch == '\r') {
				if ((ch = getch(c)) != '\n') {
					csv_error(c, cause, "carriage return "
					    "without a line feed");
					return -2;
				}
				break;
			}
			if (after) {
				csv_error(c, cause, "text after a closing "
				    "quote (a quote inside a quoted field is "
				    "written \"\")");
				return -2;
			}
			if (ch == '"') {
				csv_error(c, cause, "quote inside an unquoted "
				    "field");
				return -2;
			}
		}
		if (n == CSV_FIELD_MAX) {
			csv_error(c, cause, "field longer than 1024 bytes");
			return -2;
		}
		w[n++] = (char)ch;
	}
	w[n] = '\0';
	c->len[c->n++] = n;
	return ch;
}

/* Returns 1 with a record, 0 at the end, -1 on an error. */
int
csv_read(struct csv *c, char **cause)
{
	int	ch;

	if (!c->started) {
		c->started = 1;
		if ((ch = getch(c)) == 0xef) {
			if (getch(c) != 0xbb || getch(c) != 0xbf) {
				csv_error(c, cause, "not UTF-8 text");
				return -1;
			}
		} else
			ungetch(c, ch);
	}
	if ((ch = skip_blank(c, cause)) == -2)
		return -1;
	c->line = c->next;
	c->n = 0;
	if (ch == EOF) {
		if (c->eof < 0 && c->read_errno == ECANCELED) {
			xasprintf(cause, "%s:%lu: cancelled", c->path, c->next);
			return -1;
		}
		if (c->eof < 0) {
			xasprintf(cause, "%s:%lu: read error: %s", c->path,
			    c->next, strerror(c->read_errno));
			return -1;
		}
		return 0;
	}
	ungetch(c, ch);
	for (;;) {
		if (c->n == CSV_FIELDS_MAX) {
			csv_error(c, cause, "too many fields");
			return -1;
		}
		c->off[c->n] = c->n * (CSV_FIELD_MAX + 1);
		if ((ch = read_field(c, cause)) == -2)
			return -1;
		if (ch == '\n' || ch == EOF)
			break;
	}
	if (ch == '\n')
		c->next++;
	/* The end marker: read, and nothing after it. */
	if (c->marker && c->n == 1 && !c->quoted && c->len[0] == 2 &&
	    memcmp(c->buf, "\\.", 2) == 0) {
		c->eof = 1;
		return 0;
	}
	return 1;
}

/* One line as it is, without its line end; 0 at the end. */
static int
raw_line(struct csv *c, char *buf, size_t size, size_t *len)
{
	int	ch;

	*len = 0;
	if ((ch = getch(c)) == EOF)
		return 0;
	for (; ch != '\n' && ch != EOF; ch = getch(c)) {
		if (*len < size)
			buf[*len] = (char)ch;
		(*len)++;
	}
	if (ch == '\n')
		c->next++;
	return 1;
}

/* Whether the last byte read ended a line, or nothing was read yet. */
static int
line_start(const struct csv *c)
{
	if (c->p == NULL)
		return 1;
	return (c->p > c->base ? c->p[-1] : c->last) == '\n';
}

/*
 * After an error: the rest of the data, up to a line "\." or the end, is
 * read and dropped, so that none of it is taken for commands.
 */
void
csv_skip(struct csv *c)
{
	char	buf[3];
	size_t	len;

	if (!c->marker || c->eof != 0)
		return;
	if (!line_start(c))
		(void)raw_line(c, buf, sizeof buf, &len);
	while (raw_line(c, buf, sizeof buf, &len)) {
		if ((len == 2 || (len == 3 && buf[2] == '\r')) &&
		    memcmp(buf, "\\.", 2) == 0)
			break;
	}
	c->eof = 1;
}

/*
 * The header names name, coins and goods, in any order, and may name id
 * too: the CSV that list, find and top write has one, and the ids of the
 * new rows are the server's to give, so its values are not read.
 */
int
csv_header(struct csv *c, int *col, char **cause)
{
	static const char *const want[] = { "name", "coins", "goods", "id" };
	int		 seen[4] = { -1, -1, -1, -1 };
	unsigned int	 i, j;
	const char	*s;
	size_t		 len;
	int		 rc;

	if ((rc = csv_read(c, cause)) <= 0) {
		if (rc == 0)
			xasprintf(cause, "%s:%lu: %s: expected the header "
			    "name,coins,goods", c->path, c->line, c->marker ?
			    "no data" : "empty file");
		return -1;
	}
	for (i = 0; i < c->n; i++) {
		s = csv_field(c, i, &len);
		for (j = 0; j < 4; j++) {
			if (strcmp(s, want[j]) == 0 && len == strlen(want[j]))
				break;
		}
		if (j == 4 || seen[j] != -1)
			break;
		seen[j] = (int)i;
	}
	if (i < c->n || seen[0] == -1 || seen[1] == -1 || seen[2] == -1) {
		xasprintf(cause, "%s:%lu: expected the header name,coins,goods "
		    "(in any order; an id column is ignored)", c->path,
		    c->line);
		return -1;
	}
	c->ncols = c->n;
	for (j = 0; j < 3; j++)
		col[j] = seen[j];
	return 0;
}

/* One data record as a player, every field checked. */
int
csv_player(struct csv *c, const int *col, struct player *pl, char **cause)
{
	static const char *const what[] = { "name", "coins", "goods" };
	const char	*s;
	size_t		 len;
	long long	 v;
	char		*why;
	int		 j;

	if (c->n != c->ncols) {
		xasprintf(cause, "%s:%lu: %u field%s; expected %u, as the "
		    "header has", c->path, c->line, c->n, c->n == 1 ? "" : "s",
		    c->ncols);
		return -1;
	}
	s = csv_field(c, col[0], &len);
	if (check_name(s, len, &why) != 0) {
		xasprintf(cause, "%s:%lu: %s", c->path, c->line, why);
		free(why);
		return -1;
	}
	memcpy(pl->name, s, len + 1);
	pl->namelen = len;
	pl->name_null = pl->coins_null = pl->goods_null = 0;
	for (j = 1; j < 3; j++) {
		s = csv_field(c, col[j], &len);
		/* NULL is an empty field, as export writes it. */
		if (len == 0) {
			v = 0;
			if (j == 1)
				pl->coins_null = 1;
			else
				pl->goods_null = 1;
		} else if (parse_int_arg(s, 0, INT_LIMIT, &v) != 0) {
			xasprintf(cause, "%s:%lu: %s '%s' is not a whole "
			    "number from 0 to %lld", c->path, c->line,
			    what[j], shown(s), INT_LIMIT);
			return -1;
		}
		if (j == 1)
			pl->coins = v;
		else
			pl->goods = v;
	}
	return 0;
}
