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
