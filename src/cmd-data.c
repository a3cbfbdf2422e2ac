/*
 * The commands on the players: add, show, list, find, top, count, set,
 * rename, del, trade, and the loads and export. Each row of the command
 * table (command.c) names one; what they do to the table is player.c's
 * and load.c's, what they say goes through the session.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "session.h"
#include "output.h"

int
cmd_add(struct session *se, char **av, int ac)
{
	unsigned long long	 id;
	char			*cause;
	int			 rc;

	(void)ac;
	rc = player_add(se->db, av[0], session_num(av[1]), session_num(av[2]), &id, &cause);
	if (rc != DB_OK)
		return session_failed(se, rc, cause, av[0], NULL);
	command_added(se, av[0], id);
	return 0;
}

int
cmd_show(struct session *se, char **av, int ac)
{
	struct player	 pl;
	char		*cause;
	int		 rc;

	(void)ac;
	if ((rc = player_get(se->db, av[0], &pl, &cause)) != DB_OK)
		return session_failed(se, rc, cause, NULL, NULL);
	out_begin_players(se->out);
	out_player(&pl, se->out);
	out_end(se->out);
	return 0;
}

int
cmd_list(struct session *se, char **av, int ac)
{
	char	*cause = NULL;
	int	 rc;

	out_begin_players(se->out);
	rc = player_list(se->db, ac > 0 ? session_num(av[0]) : -1,
	    ac > 1 ? session_num(av[1]) : 0, out_player, se->out, &cause);
	return session_rows_done(se, rc, cause);
}

int
cmd_find(struct session *se, char **av, int ac)
{
	char	*cause = NULL;
	int	 rc;

	(void)ac;
	out_begin_players(se->out);
	rc = player_find(se->db, av[0], out_player, se->out, &cause);
	return session_rows_done(se, rc, cause);
}

int
cmd_top(struct session *se, char **av, int ac)
{
	char	*cause = NULL;
	int	 rc;

	out_begin_players(se->out);
	rc = player_top(se->db, strcmp(av[0], "goods") == 0,
	    ac > 1 ? session_num(av[1]) : 10, out_player, se->out, &cause);
	return session_rows_done(se, rc, cause);
}

int
cmd_count(struct session *se, char **av, int ac)
{
	long long	 n;
	char		*cause;
	int		 rc;

	(void)av;
	(void)ac;
	if ((rc = player_count(se->db, &n, &cause)) != DB_OK)
		return session_failed(se, rc, cause, NULL, NULL);
	out_number(se->out, "count", n);
	return 0;
}

int
cmd_set(struct session *se, char **av, int ac)
{
	int		 goods = strcmp(av[-1], "goods") == 0;
	int		 relative = av[1][0] == '+' || av[1][0] == '-';
	long long	 v = session_num(av[1] + (av[1][0] == '+'));
	enum txn_state	 txn = db_txn(se->db);
	struct player	 pl;
	char		*cause;
	int		 rc;

	(void)ac;
	rc = player_set(se->db, goods, av[0], v, relative, &cause);
	if (rc != DB_OK)
		return session_failed(se, rc, cause, av[0], NULL);
	if (out_format(se->out) != FMT_JSON &&
	    (!session_human(se) || se->quiet))
		return 0;
	/*
	 * The change is applied (committed, or in the open transaction):
	 * a read-back that fails does not undo it, and must not say it
	 * failed. Only a transaction that is gone by now took it along.
	 */
	if ((rc = player_get(se->db, av[0], &pl, &cause)) != DB_OK) {
		if (txn == TXN_OPEN && db_txn(se->db) != TXN_OPEN)
			return session_failed(se, rc, cause, NULL, NULL);
		session_error(se, "'%s' now has ? %s: the change was applied%s, "
		    "but its new value could not be read: %s", av[0], av[-1],
		    txn == TXN_OPEN ? " in the transaction" : "", cause);
		free(cause);
		return -1;
	}
	{
		struct field	f[] = {
			FIELD_STR("set", NULL, av[0]),
			FIELD_INT(av[-1], NULL, goods ? pl.goods : pl.coins)
		};

		session_report(se, f, 2, "'%s' now has %lld %s", av[0],
		    goods ? pl.goods : pl.coins, goods ? "goods" :
		    pl.coins == 1 ? "coin" : "coins");
	}
	return 0;
}

int
cmd_rename(struct session *se, char **av, int ac)
{
	struct field	 f[] = {
		FIELD_STR("renamed", NULL, av[0]),
		FIELD_STR("to", NULL, av[1])
	};
	char		*cause;
	int		 rc;

	(void)ac;
	if ((rc = player_rename(se->db, av[0], av[1], &cause)) != DB_OK)
		return session_failed(se, rc, cause, av[0], av[1]);
	session_report(se, f, 2, "'%s' is now '%s'", av[0], av[1]);
	return 0;
}

int
cmd_del(struct session *se, char **av, int ac)
{
	struct field	 deleted[] = { FIELD_STR("deleted", NULL, av[0]) };
	struct field	 kept[] = { FIELD_STR("kept", NULL, av[0]) };
	struct player	 pl;
	char		*cause, *q;
	int		 rc, yes;

	(void)ac;
	if (se->confirm != NULL) {
		if ((rc = player_get(se->db, av[0], &pl, &cause)) != DB_OK)
			return session_failed(se, rc, cause, NULL, NULL);
		xasprintf(&q, "Delete '%s' (id %lld, %lld coin%s, %lld goods)? "
		    "[y/N] ", pl.name, pl.id, pl.coins, plural(pl.coins),
		    pl.goods);
		yes = session_confirm(se, q);
		free(q);
		if (!yes) {
			session_report(se, kept, 1, "not deleted");
			return 0;
		}
	}
	if ((rc = player_delete(se->db, av[0], &cause)) != DB_OK)
		return session_failed(se, rc, cause, av[0], NULL);
	session_report(se, deleted, 1, "deleted '%s'", av[0]);
	return 0;
}

int
cmd_trade(struct session *se, char **av, int ac)
{
	struct field	 f[] = {
		FIELD_INT("traded", NULL, session_num(av[2])),
		FIELD_STR("buyer", NULL, av[0]),
		FIELD_STR("seller", NULL, av[1]),
		FIELD_INT("price", NULL, session_num(av[3]))
	};
	char		*cause;
	int		 rc;

	(void)ac;
	if (strcmp(av[0], av[1]) == 0) {
		session_error(se, "trade: buyer and seller are the same "
		    "player");
		return -1;
	}
	rc = player_trade(se->db, av[0], av[1], session_num(av[2]), session_num(av[3]),
	    &cause);
	if (rc != DB_OK)
		return session_failed(se, rc, cause, av[0], av[1]);
	session_report(se, f, 4, "'%s' paid %s coin%s to '%s' for %s goods", av[0],
	    av[3], plural(session_num(av[3])), av[1], av[2]);
	return 0;
}

struct progress {
	const char	*what;
	double		 start;
	int		 shown;
};

/* Progress on a terminal's stderr, once the work has taken a second. */
static void
progress(unsigned long long done, unsigned long long total, void *arg)
{
	struct progress	*p = arg;

	if (now_seconds() - p->start < 1.0)
		return;
	p->shown = 1;
	if (total > 0)
		fprintf(stderr, "\r%s: %llu of %llu rows (%llu%%)", p->what,
		    done, total, done * 100 / total);
	else
		fprintf(stderr, "\r%s: %llu rows", p->what, done);
}

static void
progress_end(struct progress *p)
{
	if (p->shown)
		fputs("\r\033[K", stderr);
}

int
cmd_bulk(struct session *se, char **av, int ac)
{
	const char	*prefix = ac > 1 ? av[1] : "player";
	long long	 n = session_num(av[0]);
	struct progress	 p = { "bulk", now_seconds(), 0 };
	char		 digits[24], *cause;
	int		 rc;

	snprintf(digits, sizeof digits, "%lld", n - 1);
	if (utf8_chars(prefix, strlen(prefix)) + 1 + strlen(digits) >
	    NAME_MAX_CHARS) {
		if (n == 1)
			session_error(se, "bulk: the name %s_0 would be longer "
			    "than %d characters", prefix, NAME_MAX_CHARS);
		else
			session_error(se, "bulk: names %s_0 to %s_%s would be "
			    "longer than %d characters", prefix, prefix,
			    digits, NAME_MAX_CHARS);
		return -1;
	}
	rc = load_bulk(se->db, n, prefix, se->s->batch,
	    se->progress ? progress : NULL, &p, &cause);
	progress_end(&p);
	if (rc != DB_OK)
		return session_failed(se, rc, cause, NULL, NULL);
	{
		struct field	f[] = {
			FIELD_INT("bulk", NULL, n),
			FIELD_STR("prefix", NULL, prefix)
		};

		session_report(se, f, 2, "added %lld player%s", n, plural(n));
	}
	return 0;
}

int
cmd_import(struct session *se, char **av, int ac)
{
	struct progress		 p = { "import", now_seconds(), 0 };
	struct input		*in = NULL;
	const char		*path = av[0];
	unsigned long long	 rows = 0;
	char			*cause;
	int			 rc;

	(void)ac;
	if (strcmp(path, "-") == 0) {
		path = "stdin";
		in = se->input != NULL ? se->input : input_stdin();
		/* Someone types the rows: at the prompt, or -e at a terminal. */
		if (isatty(STDIN_FILENO))
			fputs("Enter the rows as CSV, the header "
			    "(name,coins,goods) first; end with a line \\. "
			    "or Ctrl-D.\n", stderr);
	}
	rc = load_import(se->db, path, in, se->s->batch,
	    se->progress ? progress : NULL, &p, &rows, &cause);
	progress_end(&p);
	if (rc != DB_OK)
		return session_failed(se, rc, cause, NULL, NULL);
	{
		struct field	f[] = {
			FIELD_INT("imported", NULL, rows),
			FIELD_STR("from", NULL, av[0])
		};

		session_report(se, f, 2, "imported %llu player%s from %s", rows,
		    rows == 1 ? "" : "s", in != NULL ? "standard input" :
		    path);
	}
	return 0;
}

struct export {
	struct out	*out;
	unsigned long long rows;
	struct progress	*p;
	long long	 noname;	/* the id of a player without a name */
	char		*badname;	/* why import would refuse its name */
};

static int
export_row(const struct player *pl, void *arg)
{
	struct export	*e = arg;

	/*
	 * import could not read it back: no name is no player to add, and
	 * a name import refuses ('', blanks, control characters) likewise.
	 */
	if (pl->name_null || check_name(pl->name, pl->namelen,
	    &e->badname) != 0) {
		e->noname = pl->id;
		return -1;
	}
	if (out_player(pl, e->out) != 0)
		return -1;
	if (++e->rows % 10000 == 0 && e->p != NULL)
		progress(e->rows, 0, e->p);
	return 0;
}

/* Why export stopped: a player without a name, or the rows not all out. */
static char *
export_cause(const struct export *e, const struct dest *d, char *cause)
{
	char	*why;

	if (e->noname != -1 && e->badname != NULL) {
		free(cause);
		xasprintf(&cause, "player id %lld has a name that import could "
		    "not read back (%s): rename it, or see every row with "
		    "list --format csv", e->noname, e->badname);
	} else if (e->noname != -1) {
		free(cause);
		xasprintf(&cause, "player id %lld has no name (NULL), which "
		    "import could not read back: give it one in SQL, or see "
		    "every row with list --format csv", e->noname);
	} else if (d->f != stdout && out_error(e->out) != 0) {
		free(cause);
		xasprintf(&cause, "%s: %s", d->path,
		    strerror(out_error(e->out)));
	}
	if (d->existing)
		xasprintf(&why, "export: %s; %s has the rows before it", cause,
		    d->path);
	else if (d->tmp != NULL)
		xasprintf(&why, "export: %s; nothing exported", cause);
	else
		xasprintf(&why, "export: %s; the rows before it were written",
		    cause);
	free(cause);
	return why;
}

/*
 * Standard output, under any name, is the session's own writer, so that a
 * closed or full standard output is told as for every other command.
 */
int
cmd_export(struct session *se, char **av, int ac)
{
	struct progress	 p = { "export", now_seconds(), 0 };
	struct export	 e = { NULL, 0, se->progress ? &p : NULL, -1, NULL };
	struct dest	 d;
	enum format	 fmt = out_format(se->out);
	char		*cause = NULL, *why;
	int		 rc, to_file;

	(void)ac;
	if (dest_open(&d, av[0], &cause) != 0) {
		session_error(se, "export: %s", cause);
		free(cause);
		return -1;
	}
	to_file = d.f != stdout;
	e.out = to_file ? out_new(d.f, FMT_CSV) : se->out;
	out_set_format(e.out, FMT_CSV);
	out_begin_export(e.out);
	rc = player_list(se->db, -1, 0, export_row, &e, &cause);
	out_set_format(se->out, fmt);
	progress_end(&p);
	if (rc != DB_OK && !to_file && out_lost(se->out) != 0) {
		free(cause);	/* run_line says what became of the rows */
		free(e.badname);
		return 0;
	}
	if (rc != DB_OK)
		cause = export_cause(&e, &d, cause);
	free(e.badname);
	if (to_file)
		out_free(e.out);
	if (dest_close(&d, rc == DB_OK, &why) != 0) {
		xasprintf(&cause, "export: %s", why);
		free(why);
		rc = DB_FAIL;
	}
	if (rc != DB_OK)
		return session_failed(se, rc, cause, NULL, NULL);
	if (to_file) {
		struct field	f[] = {
			FIELD_INT("exported", NULL, e.rows),
			FIELD_STR("to", NULL, av[0])
		};

		session_report(se, f, 2, "exported %llu player%s to %s", e.rows,
		    plural((long long)e.rows), av[0]);
	}
	return 0;
}
