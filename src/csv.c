/*
 * A streaming RFC 4180 reader: quoted fields with doubled quotes and line
 * breaks, CRLF or LF, a UTF-8 byte order mark at the start, blank lines
 * skipped. Fields and
 * records are bounded, so hostile input cannot take unbounded memory.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "tidbplay.h"

#define CSV_FIELD_MAX	1024
#define CSV_FIELDS_MAX	16

struct csv {
	FILE		*f;
	const char	*path;
	unsigned long	 line;		/* where the current record starts */
	unsigned long	 next;		/* the line the reader is on */
	int		 started;
	char		 buf[CSV_FIELDS_MAX * (CSV_FIELD_MAX + 1)];
	size_t		 off[CSV_FIELDS_MAX];
	size_t		 len[CSV_FIELDS_MAX];
	unsigned int	 n;
	unsigned int	 ncols;		/* fields the header has */
};

struct csv *
csv_open(FILE *f, const char *path)
{
	struct csv	*c;

	c = xcalloc(1, sizeof *c);
	c->f = f;
	c->path = path;
	c->next = 1;
	return c;
}

void
csv_close(struct csv *c)
{
	free(c);
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

/* Returns 1 with a record, 0 at the end, -1 on an error. */
int
csv_read(struct csv *c, char **cause)
{
	FILE	*f = c->f;
	size_t	 w;
	int	 ch, quoted, after;

	if (!c->started) {
		c->started = 1;
		if ((ch = getc(f)) == 0xef) {
			if (getc(f) != 0xbb || getc(f) != 0xbf) {
				csv_error(c, cause, "not UTF-8 text");
				return -1;
			}
		} else if (ch != EOF)
			ungetc(ch, f);
	}
	/* Blank lines hold no record, as spreadsheet and Python readers agree. */
	for (;;) {
		if ((ch = getc(f)) == '\n') {
			c->next++;
			continue;
		}
		if (ch == '\r') {
			if (getc(f) != '\n') {
				csv_error(c, cause, "carriage return without a "
				    "line feed");
				return -1;
			}
			c->next++;
			continue;
		}
		break;
	}
	c->line = c->next;
	c->n = 0;
	if (ch == EOF) {
		if (ferror(f)) {
			csv_error(c, cause, "read error");
			return -1;
		}
		return 0;
	}
	ungetc(ch, f);

	for (;;) {
		if (c->n == CSV_FIELDS_MAX) {
			csv_error(c, cause, "too many fields");
			return -1;
		}
		c->off[c->n] = c->n * (CSV_FIELD_MAX + 1);
		w = 0;
		quoted = after = 0;
		ch = getc(f);
		if (ch == '"') {
			quoted = 1;
			ch = getc(f);
		}
		for (;; ch = getc(f)) {
			if (ch == '\0') {
				csv_error(c, cause, "NUL byte");
				return -1;
			}
			if (quoted && !after) {
				if (ch == EOF) {
					xasprintf(cause, "%s:%lu: quoted field "
					    "never closed", c->path, c->line);
					return -1;
				}
				if (ch == '"') {
					if ((ch = getc(f)) != '"') {
						after = 1;
						ungetc(ch, f);
						continue;
					}
				} else if (ch == '\n')
					c->next++;
			} else {
				if (ch == ',' || ch == '\n' || ch == EOF)
					break;
				if (ch == '\r') {
					if ((ch = getc(f)) != '\n') {
						csv_error(c, cause, "carriage "
						    "return without a line "
						    "feed");
						return -1;
					}
					break;
				}
				if (after) {
					csv_error(c, cause, "text after a "
					    "closing quote (a quote inside a "
					    "quoted field is written \"\")");
					return -1;
				}
				if (ch == '"') {
					csv_error(c, cause, "quote inside an "
					    "unquoted field");
					return -1;
				}
			}
			if (w == CSV_FIELD_MAX) {
				csv_error(c, cause, "field longer than 1024 "
				    "bytes");
				return -1;
			}
			c->buf[c->off[c->n] + w++] = (char)ch;
		}
		c->buf[c->off[c->n] + w] = '\0';
		c->len[c->n++] = w;
		if (ch == '\n' || ch == EOF) {
			if (ch == '\n')
				c->next++;
			return 1;
		}
	}
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
			xasprintf(cause, "%s:1: empty file: expected the "
			    "header name,coins,goods", c->path);
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
	for (j = 1; j < 3; j++) {
		s = csv_field(c, col[j], &len);
		if (parse_int_arg(s, 0, INT_LIMIT, &v) != 0) {
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
	pl->name_null = pl->coins_null = pl->goods_null = 0;
	return 0;
}
