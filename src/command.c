/*
 * The command language: the tokenizer, one table of commands that drives
 * lookup, argument checks, help and completion, and the commands
 * themselves. Nothing here builds SQL.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "session.h"
#include "output.h"

struct command {
	const char	*name;
	const char	*sub;		/* "coins" in "set coins" */
	int		 min;
	int		 max;
	enum arg_kind	 kind[4];
	const char	*usage;
	const char	*help;
	int		(*exec)(struct session *, char **, int);
};

static int	cmd_source(struct session *, char **, int);
static int	cmd_begin(struct session *, char **, int);
static int	cmd_commit(struct session *, char **, int);
static int	cmd_rollback(struct session *, char **, int);
static int	cmd_status(struct session *, char **, int);
static int	cmd_format(struct session *, char **, int);
static int	cmd_timing(struct session *, char **, int);
static int	cmd_pager(struct session *, char **, int);
static int	cmd_help(struct session *, char **, int);
static int	cmd_quit(struct session *, char **, int);

static const struct command commands[] = {
	{
		.name = "add",
		.min = 3, .max = 3,
		.kind = { A_NAME, A_INT, A_INT },
		.usage = "add NAME COINS GOODS",
		.help = "add a player and print its id",
		.exec = cmd_add
	},
	{
		.name = "show",
		.min = 1, .max = 1,
		.kind = { A_NAME },
		.usage = "show NAME",
		.help = "show one player",
		.exec = cmd_show
	},
	{
		.name = "list",
		.min = 0, .max = 2,
		.kind = { A_INT, A_INT },
		.usage = "list [LIMIT [OFFSET]]",
		.help = "list players by id",
		.exec = cmd_list
	},
	{
		.name = "find",
		.min = 1, .max = 1,
		.kind = { A_PREFIX },
		.usage = "find PREFIX",
		.help = "list players whose name starts with PREFIX",
		.exec = cmd_find
	},
	{
		.name = "top",
		.min = 1, .max = 2,
		.kind = { A_COLUMN, A_INT },
		.usage = "top coins|goods [N]",
		.help = "list the N players with the most coins or goods (10)",
		.exec = cmd_top
	},
	{
		.name = "count",
		.usage = "count",
		.help = "print the number of players",
		.exec = cmd_count
	},
	{
		.name = "set",
		.sub = "coins",
		.min = 2, .max = 2,
		.kind = { A_NAME, A_DELTA },
		.usage = "set coins NAME VALUE|+N|-N",
		.help = "set a player's coins, or change them by N",
		.exec = cmd_set
	},
	{
		.name = "set",
		.sub = "goods",
		.min = 2, .max = 2,
		.kind = { A_NAME, A_DELTA },
		.usage = "set goods NAME VALUE|+N|-N",
		.help = "set a player's goods, or change them by N",
		.exec = cmd_set
	},
	{
		.name = "rename",
		.min = 2, .max = 2,
		.kind = { A_NAME, A_NAME },
		.usage = "rename NAME NEWNAME",
		.help = "give a player a new name",
		.exec = cmd_rename
	},
	{
		.name = "del",
		.min = 1, .max = 1,
		.kind = { A_NAME },
		.usage = "del NAME",
		.help = "delete a player (at a terminal, after asking)",
		.exec = cmd_del
	},
	{
		.name = "trade",
		.min = 4, .max = 4,
		.kind = { A_NAME, A_NAME, A_INT, A_INT },
		.usage = "trade BUYER SELLER AMOUNT PRICE",
		.help = "BUYER pays PRICE coins to SELLER for AMOUNT goods",
		.exec = cmd_trade
	},
	{
		.name = "bulk",
		.min = 1, .max = 2,
		.kind = { A_COUNT, A_PREFIX },
		.usage = "bulk N [PREFIX]",
		.help = "add players PREFIX_0 to PREFIX_{N-1} (player), 10000 "
		    "coins, 100 goods",
		.exec = cmd_bulk
	},
	{
		.name = "import",
		.min = 1, .max = 1,
		.kind = { A_FILE },
		.usage = "import FILE|-",
		.help = "add the players of a CSV file (name,coins,goods; an id "
		    "column is ignored), or - for standard input, all or none",
		.exec = cmd_import
	},
	{
		.name = "export",
		.min = 1, .max = 1,
		.kind = { A_OUTFILE },
		.usage = "export FILE|-",
		.help = "write every player as CSV to FILE, or - for standard "
		    "output",
		.exec = cmd_export
	},
	{
		.name = "source",
		.min = 1, .max = 1,
		.kind = { A_FILE },
		.usage = "source FILE",
		.help = "run the commands in FILE, stopping at the first that "
		    "fails (unless --force)",
		.exec = cmd_source
	},
	{
		.name = "begin",
		.usage = "begin",
		.help = "start a transaction",
		.exec = cmd_begin
	},
	{
		.name = "commit",
		.usage = "commit",
		.help = "commit the open transaction",
		.exec = cmd_commit
	},
	{
		.name = "rollback",
		.usage = "rollback",
		.help = "undo the open transaction",
		.exec = cmd_rollback
	},
	{
		.name = "status",
		.usage = "status",
		.help = "show the connection: server, TLS, retries, reconnects",
		.exec = cmd_status
	},
	{
		.name = "format",
		.min = 0, .max = 1,
		.kind = { A_FORMAT },
		.usage = "format [table|vertical|tsv|csv|json]",
		.help = "show or set the output format",
		.exec = cmd_format
	},
	{
		.name = "timing",
		.min = 0, .max = 1,
		.kind = { A_ONOFF },
		.usage = "timing [on|off]",
		.help = "show or set whether each command's time is shown",
		.exec = cmd_timing
	},
	{
		.name = "pager",
		.min = 0, .max = 1,
		.kind = { A_PAGER },
		.usage = "pager [on|off|COMMAND]",
		.help = "show or set the pager of results taller than the "
		    "terminal",
		.exec = cmd_pager
	},
	{
		.name = "help",
		.min = 0, .max = 2,
		.kind = { A_COMMAND, A_NONE },
		.usage = "help [COMMAND]",
		.help = "describe the commands",
		.exec = cmd_help
	},
	{
		.name = "quit",
		.usage = "quit",
		.help = "leave (so do exit and Ctrl-D)",
		.exec = cmd_quit
	},
	{
		.name = "exit",
		.usage = "exit",
		.help = "leave",
		.exec = cmd_quit
	},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

/* ---- the tokenizer ---- */

static void
words_push(struct words **cmds, size_t *n, struct words *cur)
{
	if (cur->argc == 0)
		return;
	*cmds = xreallocarray(*cmds, *n + 1, sizeof **cmds);
	(*cmds)[(*n)++] = *cur;
	memset(cur, 0, sizeof *cur);
}

void
free_words(struct words *cmds, size_t n)
{
	size_t	i;
	int	j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < cmds[i].argc; j++)
			free(cmds[i].argv[j]);
	}
	free(cmds);
}

/*
 * Split a line into commands (';') of words (blanks), with '...' and "..."
 * quoting (\" and \\ inside double quotes) and # starting a comment.
 */
int
split_line(const char *line, size_t len, struct words **out, size_t *nout,
    char **cause)
{
	struct words	 cur;
	char		*w;
	size_t		 i = 0, wl = 0;
	int		 inword = 0;
	char		 q;

	*out = NULL;
	*nout = 0;
	memset(&cur, 0, sizeof cur);
	if (memchr(line, '\0', len) != NULL) {
		xasprintf(cause, "the line holds a NUL byte");
		return -1;
	}
	w = xmalloc(len + 1);
	for (;;) {
		char c = i < len ? line[i] : '\0';

		if (i >= len || c == ' ' || c == '\t' || c == '\r' ||
		    c == '\n' || c == ';') {
			if (inword) {
				if (cur.argc == MAX_ARGS) {
					xasprintf(cause, "too many words in "
					    "one command");
					goto fail;
				}
				cur.argv[cur.argc++] = xstrndup(w, wl);
				wl = 0;
				inword = 0;
			}
			if (i >= len)
				break;
			if (c == ';')
				words_push(out, nout, &cur);
			i++;
			continue;
		}
		if (c == '#' && !inword)
			break;
		inword = 1;
		if (c != '\'' && c != '"') {
			w[wl++] = c;
			i++;
			continue;
		}
		q = c;
		for (i++; i < len && line[i] != q; i++) {
			if (q == '"' && line[i] == '\\' && i + 1 < len &&
			    (line[i + 1] == '"' || line[i + 1] == '\\'))
				i++;
			w[wl++] = line[i];
		}
		if (i >= len) {
			xasprintf(cause, "unterminated %s quote",
			    q == '\'' ? "'" : "\"");
			goto fail;
		}
		i++;
	}
	words_push(out, nout, &cur);
	free(w);
	return 0;

fail:
	free(w);
	for (inword = 0; inword < cur.argc; inword++)
		free(cur.argv[inword]);
	free_words(*out, *nout);
	*out = NULL;
	*nout = 0;
	return -1;
}

/* ---- the table: lookup and checks ---- */

/* The i-th word of a usage line, brackets off: the argument's label. */
static char *
arg_label(const struct command *c, int i)
{
	const char	*p = c->usage;
	size_t		 len;
	int		 skip = (c->sub != NULL ? 2 : 1) + i;

	while (skip-- > 0) {
		p += strcspn(p, " ");
		p += strspn(p, " ");
	}
	p += strspn(p, "[");
	len = strcspn(p, " []");
	return xstrndup(p, len);
}

static int
check_arg(const struct command *c, int i, const char *v, char **cause)
{
	long long	 n;
	char		*label = NULL, *why;
	enum format	 fmt;
	int		 rc = 0;

	/* Runs for every argument of every line: the label only on error. */
	switch (c->kind[i]) {
	case A_NAME:
	case A_PREFIX:
		if (check_name(v, strlen(v), &why) != 0) {
			label = arg_label(c, i);
			xasprintf(cause, "%s: %s: %s", c->name, label, why);
			free(why);
			rc = -1;
		}
		break;
	case A_INT:
		if (parse_int_arg(v, 0, INT_LIMIT, &n) != 0) {
			label = arg_label(c, i);
			xasprintf(cause, "%s: %s must be a whole number from 0 "
			    "to 2147483647, not '%s'", c->name, label, shown(v));
			rc = -1;
		}
		break;
	case A_COUNT:
		/*
		 * No bound of ours below the table's: rows are made as they
		 * are sent, so memory does not grow with N; the INTEGER id
		 * holds at most INT_LIMIT players.
		 */
		if (parse_int_arg(v, 1, INT_LIMIT, &n) != 0) {
			label = arg_label(c, i);
			xasprintf(cause, "%s: %s must be a whole number from 1 "
			    "to %lld, not '%s'", c->name, label, INT_LIMIT,
			    shown(v));
			rc = -1;
		}
		break;
	case A_DELTA:
		if ((v[0] == '+' || v[0] == '-') ?
		    parse_int_arg(v + 1, 0, INT_LIMIT, &n) != 0 ||
		    v[1] == '+' || v[1] == '-' :
		    parse_int_arg(v, 0, INT_LIMIT, &n) != 0) {
			xasprintf(cause, "%s %s: VALUE must be a whole number "
			    "from 0 to 2147483647, or +N or -N, not '%s'",
			    c->name, c->sub, shown(v));
			rc = -1;
		}
		break;
	case A_FILE:
	case A_OUTFILE:
		if (*v == '\0') {
			xasprintf(cause, "%s: empty file name", c->name);
			rc = -1;
		}
		break;
	case A_FORMAT:
		if (parse_format(v, &fmt) != 0) {
			xasprintf(cause, "%s: unknown format '%s': table, "
			    "vertical, tsv, csv or json", c->name, shown(v));
			rc = -1;
		}
		break;
	case A_ONOFF:
		if (strcmp(v, "on") != 0 && strcmp(v, "off") != 0) {
			xasprintf(cause, "%s: on or off, not '%s'", c->name,
			    shown(v));
			rc = -1;
		}
		break;
	case A_COLUMN:
		if (strcmp(v, "coins") != 0 && strcmp(v, "goods") != 0) {
			xasprintf(cause, "%s: coins or goods, not '%s'",
			    c->name, shown(v));
			rc = -1;
		}
		break;
	case A_COMMAND:
	case A_PAGER:
	case A_NONE:
		break;
	}
	free(label);
	return rc;
}

static const struct command *
lookup(const char *name, const char *sub, int *has_subs)
{
	size_t	i;

	*has_subs = 0;
	for (i = 0; i < NCOMMANDS; i++) {
		if (strcmp(commands[i].name, name) != 0)
			continue;
		if (commands[i].sub == NULL)
			return &commands[i];
		*has_subs = 1;
		if (sub != NULL && strcmp(commands[i].sub, sub) == 0)
			return &commands[i];
	}
	return NULL;
}

static char *
sub_list(const char *name)
{
	char	*list = xstrdup(""), *tmp;
	size_t	 i;

	for (i = 0; i < NCOMMANDS; i++) {
		if (strcmp(commands[i].name, name) != 0)
			continue;
		xasprintf(&tmp, "%s%s%s %s", list, *list ? " or " : "",
		    name, commands[i].sub);
		free(list);
		list = tmp;
	}
	return list;
}

/*
 * Edits between a and b (insert, delete, change, swap two neighbours),
 * for "did you mean": hepl is one from help, shwo one from show, and ADD
 * none from add (command words are lower case). Words longer than 15
 * bytes are never close.
 */
static int
lc(char c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static unsigned int
distance(const char *a, const char *b)
{
	unsigned int	d[17][17];
	size_t		la = strlen(a), lb = strlen(b), i, j;
	unsigned int	v;

	if (la > 15 || lb > 15)
		return 99;
	for (i = 0; i <= la; i++)
		d[i][0] = (unsigned int)i;
	for (j = 0; j <= lb; j++)
		d[0][j] = (unsigned int)j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			v = d[i - 1][j - 1] + (lc(a[i - 1]) != lc(b[j - 1]));
			if (d[i - 1][j] + 1 < v)
				v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (i > 1 && j > 1 && lc(a[i - 1]) == lc(b[j - 2]) &&
			    lc(a[i - 2]) == lc(b[j - 1]) &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

/*
 * The command word (or, with name, the sub-word of name) closest to
 * word, when it is close enough to be a typo: one edit, two for words of
 * five letters or more. NULL when none is.
 */
static const char *
closest(const char *name, const char *word)
{
	const char	*best = NULL, *cand;
	unsigned int	 d, bestd = 99, most;
	size_t		 i;

	most = strlen(word) >= 5 ? 2 : 1;
	for (i = 0; i < NCOMMANDS; i++) {
		if (name != NULL && strcmp(commands[i].name, name) != 0)
			continue;
		cand = name != NULL ? commands[i].sub : commands[i].name;
		if (cand == NULL)
			continue;
		if ((d = distance(word, cand)) <= most && d < bestd) {
			bestd = d;
			best = cand;
		}
	}
	return best;
}

/* Everything a command's words must be before anything runs. */
int
command_check(const struct words *w, const struct command **cmdp,
    char **cause)
{
	const struct command	*c;
	const char		*near;
	int			 has_subs, first, nargs, i;
	char			*list;

	c = lookup(w->argv[0], w->argc > 1 ? w->argv[1] : NULL, &has_subs);
	if (c == NULL && has_subs) {
		list = sub_list(w->argv[0]);
		if (w->argc > 1 && (near = closest(w->argv[0],
		    w->argv[1])) != NULL)
			xasprintf(cause, "%s: unknown field '%s' (did you mean "
			    "%s %s?): %s", w->argv[0], shown(w->argv[1]),
			    w->argv[0], near, list);
		else if (w->argc > 1)
			xasprintf(cause, "%s: unknown field '%s': %s",
			    w->argv[0], shown(w->argv[1]), list);
		else
			xasprintf(cause, "%s what? %s", w->argv[0], list);
		free(list);
		return -1;
	}
	if (c == NULL && (near = closest(NULL, w->argv[0])) != NULL) {
		xasprintf(cause, "unknown command '%s': did you mean %s? (help "
		    "lists them)", shown(w->argv[0]), near);
		return -1;
	}
	if (c == NULL) {
		xasprintf(cause, "unknown command '%s' (help lists them)",
		    shown(w->argv[0]));
		return -1;
	}
	first = c->sub != NULL ? 2 : 1;
	nargs = w->argc - first;
	if (nargs < c->min || nargs > c->max) {
		xasprintf(cause, "%s: %s arguments; usage: %s", c->name,
		    nargs < c->min ? "missing" : "too many", c->usage);
		return -1;
	}
	for (i = 0; i < nargs; i++) {
		if (check_arg(c, i, w->argv[first + i], cause) != 0)
			return -1;
	}
	*cmdp = c;
	return 0;
}

/* For completion: the i-th distinct command word, or NULL. */
const char *
command_word(size_t i)
{
	size_t	k, n = 0;

	for (k = 0; k < NCOMMANDS; k++) {
		if (k > 0 && strcmp(commands[k].name, commands[k - 1].name) == 0)
			continue;
		if (n++ == i)
			return commands[k].name;
	}
	return NULL;
}

/* For completion: the i-th sub-word of a command, or NULL. */
const char *
command_sub(const char *name, size_t i)
{
	size_t	k, n = 0;

	for (k = 0; k < NCOMMANDS; k++) {
		if (strcmp(commands[k].name, name) == 0 &&
		    commands[k].sub != NULL && n++ == i)
			return commands[k].sub;
	}
	return NULL;
}

/* For completion: the kind of argument number arg (0 the first). */
enum arg_kind
command_arg_kind(const char *name, const char *sub, int arg)
{
	const struct command	*c;
	int			 has_subs;

	if ((c = lookup(name, sub, &has_subs)) == NULL || arg < 0 ||
	    arg >= 4 || arg >= c->max)
		return A_NONE;
	return c->kind[arg];
}

/* ---- running ---- */


/* A script's lines in this session; its own errors say FILE:LINE. */
static int
cmd_source(struct session *se, char **av, int ac)
{
	(void)ac;
	if (se->run_file == NULL) {
		session_error(se, "source: cannot read scripts here");
		return -1;
	}
	return se->run_file(se, av[0]);
}

/* state: what json says of the transaction; done: the sentence. */
static int
txn_cmd(struct session *se, int (*fn)(struct db *, char **),
    const char *state, const char *done)
{
	struct field	 f[] = { FIELD_STR("transaction", NULL, state) };
	char		*cause;
	int		 rc;

	if ((rc = fn(se->db, &cause)) != DB_OK)
		return session_failed(se, rc, cause, NULL, NULL);
	session_report(se, f, 1, "%s", done);
	return 0;
}

static int
cmd_begin(struct session *se, char **av, int ac)
{
	(void)av;
	(void)ac;
	return txn_cmd(se, db_begin, "open", "transaction open");
}

static int
cmd_commit(struct session *se, char **av, int ac)
{
	(void)av;
	(void)ac;
	return txn_cmd(se, db_commit, "committed", "committed");
}

static int
cmd_rollback(struct session *se, char **av, int ac)
{
	(void)av;
	(void)ac;
	return txn_cmd(se, db_rollback, "rolled back", "rolled back");
}

static const char *
txn_name(enum txn_state t)
{
	switch (t) {
	case TXN_OPEN:
		return "open";
	case TXN_GONE:
		return "rolled back (say rollback or begin)";
	case TXN_NONE:
		break;
	}
	return "none";
}

/*
 * Every field of the connection, as text lines (in the order they have
 * always had) or as one JSON object with the parts as values of their own.
 */
static int
cmd_status(struct session *se, char **av, int ac)
{
	struct db_info	 info;
	const char	*plain = NULL;
	char		*from, *server, *tls = NULL;
	int		 n;

	(void)av;
	(void)ac;
	db_info(se->db, &info);
	server = host_port(info.host, info.port);
	from = settings_origins(se->s);
	if (info.tls_version != NULL)
		xasprintf(&tls, "%s, %s", info.tls_version,
		    info.cipher != NULL ? info.cipher : "?");
	else {
		plain = se->s->tls == TLS_OFF ? "tls = off" : "loopback";
		xasprintf(&tls, "not encrypted (%s)", plain);
	}
	{
		struct field	f[] = {
			FIELD_STR(NULL, "server", server),
			FIELD_STR("host", NULL, info.host),
			FIELD_INT("port", NULL, info.port),
			FIELD_STR("user", "user", info.user),
			FIELD_STR("settings", "settings", from),
			FIELD_STR("database", "database", info.database),
			FIELD_STR("table", "table", se->s->table),
			FIELD_STR("collation", "collation", info.collation),
			FIELD_STR("table_check", "table check", info.shape),
			FIELD_STR(NULL, "version", info.server != NULL ?
			    info.server : "?"),
			FIELD_STR("version", NULL, info.server),
			FIELD_STR("tidb", "tidb", info.tidb),
			FIELD_STR(NULL, "tls", tls),
			FIELD_STR("tls", NULL, info.tls_version),
			FIELD_STR("cipher", NULL, info.cipher),
			FIELD_STR("verified", "verified", info.tls_version !=
			    NULL ? info.ca : NULL),
			FIELD_STR("plaintext", NULL, plain),
			FIELD_INT("connection", "connection", info.thread_id),
			FIELD_INT("retries", "retries", info.retries),
			FIELD_INT("reconnects", "reconnects", info.reconnects),
			FIELD_STR("transaction", "transaction",
			    txn_name(db_txn(se->db))),
			FIELD_STR("format", "format",
			    format_name(out_format(se->out))),
			FIELD_BOOL("timing", "timing", se->timing)
		};

		n = (int)(sizeof f / sizeof f[0]);
		out_fields(se->out, f, n);
	}
	free(server);
	free(from);
	free(tls);
	free(info.tidb);
	return 0;
}

static int
cmd_format(struct session *se, char **av, int ac)
{
	enum format	fmt;

	if (ac == 0) {
		struct field	f[] = {
			FIELD_STR("format", "", format_name(out_format(se->out)))
		};

		out_fields(se->out, f, 1);
		return 0;
	}
	parse_format(av[0], &fmt);
	out_set_format(se->out, fmt);
	return 0;
}

static int
cmd_timing(struct session *se, char **av, int ac)
{
	struct field	f[] = { FIELD_BOOL("timing", "", se->timing) };

	if (ac == 0)
		out_fields(se->out, f, 1);
	else
		se->timing = strcmp(av[0], "on") == 0;
	return 0;
}

/*
 * The pager of table and vertical results at a terminal (the terminal
 * runs it): on ($PAGER, else less), off, or a command of one's own.
 */
static int
cmd_pager(struct session *se, char **av, int ac)
{
	const char	*env = getenv("PAGER");
	char		*cause, *v;

	if (ac == 0) {
		if (strcmp(se->s->pager, "on") != 0)
			v = xstrdup(se->s->pager);
		else if (env != NULL && *env != '\0')
			xasprintf(&v, "on (PAGER: %s)", env);
		else
			v = xstrdup("on (less -SFRX, when it is installed)");
		{
			struct field	f[] = { FIELD_STR("pager", "", v) };

			out_fields(se->out, f, 1);
		}
		free(v);
		return 0;
	}
	if (settings_set(se->s, K_PAGER, av[0], "the pager command",
	    TRUST_OPTION, &cause) != 0) {
		session_error(se, "pager: %s", cause);
		free(cause);
		return -1;
	}
	return 0;
}

#define HELP_WIDTH	79	/* an 80-column terminal, without wrapping */
#define HELP_USAGE	38

/* One row of help, its text wrapped at blanks under its own column. */
static void
help_row(struct out *o, const char *usage, const char *help)
{
	const char	*p = help;
	size_t		 room = HELP_WIDTH - HELP_USAGE - 3, n;

	out_text(o, "  %-*s ", HELP_USAGE, usage);
	while (strlen(p) > room) {
		for (n = room; n > 0 && p[n] != ' '; n--)
			;
		if (n == 0)
			n = strcspn(p, " ");
		out_text(o, "%.*s\n%*s", (int)n, p, HELP_USAGE + 3, "");
		p += n;
		p += strspn(p, " ");
	}
	out_text(o, "%s\n", p);
}

static int
cmd_help(struct session *se, char **av, int ac)
{
	size_t	i;
	int	found = 0;

	for (i = 0; i < NCOMMANDS; i++) {
		if (ac > 0 && strcmp(commands[i].name, av[0]) != 0)
			continue;
		if (ac > 1 && (commands[i].sub == NULL ||
		    strcmp(commands[i].sub, av[1]) != 0))
			continue;
		help_row(se->out, commands[i].usage, commands[i].help);
		found = 1;
	}
	if (!found) {
		session_error(se, "help: no command '%s%s%s'", av[0],
		    ac > 1 ? " " : "", ac > 1 ? av[1] : "");
		return -1;
	}
	if (ac == 0)
		out_text(se->out, "Words split on blanks; quote with '...' or "
		    "\"...\"; "
		    "';' separates commands;\n'#' starts a comment. "
		    "See tidbplay(1) for more.\n");
	return 0;
}

static int
cmd_quit(struct session *se, char **av, int ac)
{
	(void)av;
	(void)ac;
	se->quit = 1;
	return 0;
}

/*
 * At a terminal, a line is what the user typed as one: after a failure
 * the rest of it is not run (a "begin; set ...; commit" must not commit
 * half), and the commands skipped are named, so that none is skipped
 * without a word.
 */
static void
not_run(const struct words *cmds, size_t n)
{
	const char	*w, *q;
	char		*list = NULL, *more;
	size_t		 i;
	int		 j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < cmds[i].argc; j++) {
			w = cmds[i].argv[j];
			q = *w == '\0' || strpbrk(w, " \t;#'\"") != NULL ?
			    strchr(w, '\'') != NULL ? "\"" : "'" : "";
			xasprintf(&more, "%s%s%s%s%s", list == NULL ? "" : list,
			    list == NULL ? "" : j == 0 ? "; " : " ", q, w, q);
			free(list);
			list = more;
		}
	}
	say("not run: %s", list);
	free(list);
}

/*
 * Run one line: every command on it, in order, stopping at the first
 * failure unless --force (or at the terminal, where the next line is the
 * user's to choose). Returns -1 when something failed.
 */
int
run_line(struct session *se, const char *line, size_t len)
{
	const struct command	*c;
	struct words		*cmds;
	size_t			 n, i;
	char			*cause;
	double			 t0;
	int			 rc = 0, first;

	if (split_line(line, len, &cmds, &n, &cause) != 0) {
		session_error(se, "%s", cause);
		free(cause);
		return -1;
	}
	for (i = 0; i < n && !se->quit; i++) {
		if (command_check(&cmds[i], &c, &cause) != 0) {
			session_error(se, "%s", cause);
			free(cause);
			rc = -1;
		} else {
			first = c->sub != NULL ? 2 : 1;
			t0 = now_seconds();
			se->command = c->name;
			db_between_commands(se->db);
			if (c->exec(se, cmds[i].argv + first,
			    cmds[i].argc - first) != 0)
				rc = -1;
			if (command_results_lost(se, c->name) != 0)
				rc = -1;
			se->command = NULL;
			/* timing on does not time itself. */
			if (se->timing && c->exec != cmd_timing) {
				out_flush(se->out);
				fprintf(stderr, "Time: %.3f ms\n",
				    (now_seconds() - t0) * 1000.0);
			}
		}
		if (rc != 0 && !se->force)
			break;
	}
	if (rc != 0 && !se->force && se->interactive && i + 1 < n &&
	    !se->quit)
		not_run(cmds + i + 1, n - i - 1);
	free_words(cmds, n);
	if (se->interactive)
		out_flush(se->out);
	return rc;
}

/*
 * Results that could not be written to standard output make the command
 * (what; NULL at the end) fail, as "ls >&-" does; a reader that has gone
 * (EPIPE) ends it quietly and is no failure, as with psql and mysql.
 */
int
command_results_lost(struct session *se, const char *what)
{
	int	e = what != NULL ? out_command_end(se->out) : out_lost(se->out);

	out_mark(se->out);
	if (e == 0 || e == EPIPE)
		return 0;
	if (what != NULL)
		session_error(se, "%s: cannot write to standard output: %s",
		    what, strerror(e));
	else
		say("standard output: %s", strerror(e));
	return -1;
}

/*
 * For grouping adds: a line that is one add with good arguments, as a
 * row; else 0.
 */
int
command_add_row(const char *line, size_t len, struct player *pl)
{
	const struct command	*c;
	struct words		*cmds;
	size_t			 n;
	char			*cause;
	int			 ok = 0;

	if (split_line(line, len, &cmds, &n, &cause) != 0) {
		free(cause);
		return 0;
	}
	if (n == 1 && strcmp(cmds[0].argv[0], "add") == 0) {
		if (command_check(&cmds[0], &c, &cause) == 0) {
			pl->namelen = strlen(cmds[0].argv[1]);
			memcpy(pl->name, cmds[0].argv[1], pl->namelen + 1);
			pl->coins = session_num(cmds[0].argv[2]);
			pl->goods = session_num(cmds[0].argv[3]);
			pl->name_null = pl->coins_null = pl->goods_null = 0;
			ok = 1;
		} else
			free(cause);
	}
	free_words(cmds, n);
	return ok;
}
