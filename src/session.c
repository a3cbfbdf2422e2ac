/*
 * One session: its errors and notes, the question the line source
 * answers, and what happened to a write whose fate is unknown. Commands
 * report through here, so that every message has the same shape.
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"
#include "output.h"

void
session_init(struct session *se, struct settings *s, struct out *out)
{
	memset(se, 0, sizeof *se);
	se->s = s;
	se->out = out;
	se->timing = s->timing;
	se->source = "-";
}

/* A failed command: "FILE:LINE: why" in scripts, "error: why" typed. */
void
session_error(struct session *se, const char *fmt, ...)
{
	va_list	 ap;
	char	*lead;

	if (se->interactive)
		lead = xstrdup("error: ");
	else
		xasprintf(&lead, "%s:%lu: ", se->source, se->line);
	va_start(ap, fmt);
	vdiag(0, lead, fmt, ap);
	va_end(ap);
	free(lead);
	se->failed = 1;
}

int
session_human(const struct session *se)
{
	enum format	fmt = out_format(se->out);

	return fmt == FMT_TABLE || fmt == FMT_VERTICAL;
}

/* A confirmation for people, on stderr: only in the human formats. */
void
session_note(struct session *se, const char *fmt, ...)
{
	va_list	ap;

	if (se->quiet || !session_human(se))
		return;
	va_start(ap, fmt);
	vdiag(0, "", fmt, ap);
	va_end(ap);
}

/*
 * What the connection has to say while a command runs (a retry, a
 * reconnect), named by the command.
 */
void
session_notice(void *arg, const char *msg)
{
	struct session	*se = arg;

	if (se->command != NULL)
		say("%s: %s", se->command, msg);
	else
		say("%s", msg);
}

/* After a write whose fate is unknown: the record as it now is. */
void
session_show_now(struct session *se, const char *name)
{
	struct player	 pl;
	char		*cause;

	if (player_get(se->db, name, &pl, &cause) != DB_OK) {
		say("now: %s", cause);
		free(cause);
		return;
	}
	say("now: '%s' (id %lld) has %lld coin%s and %lld goods", pl.name,
	    pl.id, pl.coins, pl.coins == 1 ? "" : "s", pl.goods);
}

/*
 * A command failed with cause (taken); when its write's fate is unknown,
 * the rows it touched are shown as they now are. Returns -1.
 */
int
session_failed(struct session *se, int rc, char *cause, const char *name,
    const char *name2)
{
	session_error(se, "%s", cause);
	free(cause);
	if (rc == DB_UNKNOWN) {
		if (name != NULL)
			session_show_now(se, name);
		if (name2 != NULL)
			session_show_now(se, name2);
	}
	return -1;
}

/* Yes, unless the line source has someone to ask who says no. */
int
session_confirm(struct session *se, const char *question)
{
	if (se->confirm == NULL)
		return 1;
	return se->confirm(question);
}

/* A number the command's checks already let through. */
long long
session_num(const char *s)
{
	return strtoll(s, NULL, 10);
}

/*
 * What a command that changes data reports: one object in json, a
 * sentence on stderr for people in table and vertical (not with -q),
 * nothing in tsv and csv.
 */
void
session_report(struct session *se, const struct field *f, int n, const char *fmt,
    ...)
{
	va_list	 ap;
	char	*msg;

	if (out_format(se->out) == FMT_JSON) {
		out_object(se->out, f, n);
		return;
	}
	if (!session_human(se) || se->quiet)
		return;
	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	session_note(se, "%s", msg);
	free(msg);
}
/* What add says; in tsv and csv the new id is a one-column result. */
void
command_added(struct session *se, const char *name, unsigned long long id)
{
	struct field	f[] = {
		FIELD_STR("added", NULL, name),
		FIELD_INT("id", NULL, id)
	};

	if (out_format(se->out) == FMT_TSV || out_format(se->out) == FMT_CSV)
		out_number(se->out, "id", (long long)id);
	else
		session_report(se, f, 2, "added '%s' with id %llu", name, id);
}
/* "s" after a count other than one: "1 player", "2 players". */
const char *
plural(long long n)
{
	return n == 1 ? "" : "s";
}
int
session_rows_done(struct session *se, int rc, char *cause)
{
	out_end(se->out);
	/* The rows stopped because they could not be written: run_line says. */
	if (rc != DB_OK && out_lost(se->out) != 0) {
		free(cause);
		return 0;
	}
	if (rc != DB_OK)
		return session_failed(se, rc, cause, NULL, NULL);
	return 0;
}
