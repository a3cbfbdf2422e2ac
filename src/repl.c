/*
 * Line sources: GNU Readline at a terminal (completion, history, Ctrl-C),
 * getline for scripts and pipes, and the -e string. Readline is never used
 * when standard input is not a terminal: it would echo the script.
 */
#include "config.h"

#include <sys/select.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "tidbplay.h"

#define HISTORY_MAX	1000
#define COMPLETE_NAMES	100

static struct session	*cur;		/* for readline's callbacks */
static char		*histfile;
static volatile sig_atomic_t got_sigint;
static int		 cancel_pipe[2] = { -1, -1 };

/* ---- scripts ---- */

static int
run_stream(struct session *se, FILE *f, const char *source)
{
	char	*line = NULL;
	size_t	 size = 0;
	ssize_t	 len;

	se->source = source;
	se->line = 0;
	while (!se->quit && (len = getline(&line, &size, f)) != -1) {
		se->line++;
		if (run_line(se, line, (size_t)len) != 0 && !se->force)
			break;
	}
	if (ferror(f)) {
		session_error(se, "read error: %s", strerror(errno));
	}
	free(line);
	return se->failed ? -1 : 0;
}

int
script_run(struct session *se, FILE *f, const char *source)
{
	return run_stream(se, f, source);
}

int
execute_run(struct session *se, const char *cmds)
{
	const char	*p = cmds, *nl;

	se->source = "-e";
	se->line = 0;
	while (!se->quit && *p != '\0') {
		se->line++;
		nl = strchr(p, '\n');
		if (run_line(se, p, nl == NULL ? strlen(p) :
		    (size_t)(nl - p)) != 0 && !se->force)
			break;
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return se->failed ? -1 : 0;
}

/* ---- history ---- */

static char *
history_path(struct session *se)
{
	const char	*env, *home;
	char		*path, *dir, *slash;

	if ((env = getenv("TIDBPLAY_HISTFILE")) != NULL)
		path = xstrdup(env);
	else if (se->s->history != NULL)
		path = xstrdup(se->s->history);
	else if ((env = getenv("XDG_STATE_HOME")) != NULL && *env == '/')
		xasprintf(&path, "%s/tidbplay/history", env);
	else if ((home = getenv("HOME")) != NULL && *home != '\0')
		xasprintf(&path, "%s/.local/state/tidbplay/history", home);
	else
		return NULL;
	if (*path == '\0' || strcmp(path, "/dev/null") == 0) {
		free(path);
		return NULL;
	}
	/* Make the directories (0700) on the way. */
	dir = xstrdup(path);
	for (slash = strchr(dir + 1, '/'); slash != NULL;
	    slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		mkdir(dir, 0700);
		*slash = '/';
	}
	free(dir);
	return path;
}

static void
history_open(struct session *se)
{
	int	fd;

	using_history();
	stifle_history(HISTORY_MAX);
	if ((histfile = history_path(se)) == NULL)
		return;
	fd = open(histfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd == -1) {
		fprintf(stderr, "%s: warning: history %s: %s\n", progname,
		    histfile, strerror(errno));
		free(histfile);
		histfile = NULL;
		return;
	}
	fchmod(fd, 0600);
	close(fd);
	read_history(histfile);
}

static void
history_add(const char *line)
{
	HIST_ENTRY	*last;

	if (*line == '\0' || *line == ' ')
		return;
	last = history_length > 0 ? history_get(history_base +
	    history_length - 1) : NULL;
	if (last != NULL && strcmp(last->line, line) == 0)
		return;
	add_history(line);
	/* Appended line by line, so two shells do not overwrite each other. */
	if (histfile != NULL)
		append_history(1, histfile);
}

static void
history_close(void)
{
	if (histfile != NULL)
		history_truncate_file(histfile, HISTORY_MAX);
	free(histfile);
	histfile = NULL;
}

/* ---- completion ---- */

static const char *const *gen_list;

static char *
gen_from_list(const char *text, int state)
{
	static size_t	i;
	const char	*w;

	if (state == 0)
		i = 0;
	while ((w = gen_list[i]) != NULL) {
		i++;
		if (strncmp(w, text, strlen(text)) == 0)
			return xstrdup(w);
	}
	return NULL;
}

static char *
gen_command(const char *text, int state)
{
	static size_t	i;
	const char	*w;

	if (state == 0)
		i = 0;
	while ((w = command_word(i)) != NULL) {
		i++;
		if (strncmp(w, text, strlen(text)) == 0)
			return xstrdup(w);
	}
	return NULL;
}

static const char	*gen_cmd;

static char *
gen_sub(const char *text, int state)
{
	static size_t	i;
	const char	*w;

	if (state == 0)
		i = 0;
	while ((w = command_sub(gen_cmd, i)) != NULL) {
		i++;
		if (strncmp(w, text, strlen(text)) == 0)
			return xstrdup(w);
	}
	return NULL;
}

struct names {
	char	**v;
	size_t	  n;
};

static int
collect_name(const struct player *pl, void *arg)
{
	struct names	*nm = arg;
	const char	*q;
	char		*m;

	if (pl->name_null)
		return 0;
	/* A name with blanks or quotes comes back quoted, ready to use. */
	if (rl_completion_quote_character == 0 &&
	    strpbrk(pl->name, " \t;#'\"") != NULL) {
		q = strchr(pl->name, '\'') == NULL ? "'" : "\"";
		if (*q == '"' && strchr(pl->name, '"') != NULL)
			return 0;
		xasprintf(&m, "%s%s%s", q, pl->name, q);
	} else
		m = xstrdup(pl->name);
	nm->v = xreallocarray(nm->v, nm->n + 1, sizeof *nm->v);
	nm->v[nm->n++] = m;
	return 0;
}

static struct names	gen_names;

static char *
gen_player(const char *text, int state)
{
	static size_t	 i;
	char		*cause;

	if (state == 0) {
		while (gen_names.n > 0)
			free(gen_names.v[--gen_names.n]);
		i = 0;
		if (*text == '\0' || check_name(text, strlen(text),
		    &cause) == 0) {
			if (player_names(cur->db, text, COMPLETE_NAMES,
			    collect_name, &gen_names, &cause) != DB_OK)
				free(cause);
		} else
			free(cause);
	}
	if (i < gen_names.n) {
		char *m = gen_names.v[i];

		gen_names.v[i++] = NULL;
		return m;
	}
	return NULL;
}

static char **
complete(const char *text, int start, int end)
{
	static const char *const formats[] = { "table", "vertical", "tsv",
	    "csv", "json", NULL };
	static const char *const onoff[] = { "on", "off", NULL };
	static const char *const columns[] = { "coins", "goods", NULL };
	char		*before, *p, *w[3];
	int		 n = 0, arg, kind;

	(void)end;
	rl_attempted_completion_over = 1;
	/* The words of this command before the one being completed. */
	before = xstrndup(rl_line_buffer, start);
	if ((p = strrchr(before, ';')) == NULL)
		p = before;
	else
		p++;
	for (p = strtok(p, " \t"); p != NULL && n < 3; p = strtok(NULL,
	    " \t"))
		w[n++] = p;
	if (n == 0) {
		free(before);
		return rl_completion_matches(text, gen_command);
	}
	gen_cmd = w[0];
	if (n == 1 && command_sub(w[0], 0) != NULL) {
		char **m = rl_completion_matches(text, gen_sub);

		free(before);
		return m;
	}
	arg = n - (command_sub(w[0], 0) != NULL ? 2 : 1);
	kind = command_arg_kind(w[0], command_sub(w[0], 0) != NULL && n > 1 ?
	    w[1] : NULL, arg);
	free(before);
	switch (kind) {
	case A_NAME:
	case A_PREFIX:
		return rl_completion_matches(text, gen_player);
	case A_FILE:
	case A_OUTFILE:
		rl_attempted_completion_over = 0;
		return NULL;
	case A_FORMAT:
		gen_list = formats;
		break;
	case A_ONOFF:
		gen_list = onoff;
		break;
	case A_COLUMN:
		gen_list = columns;
		break;
	case A_COMMAND:
		return rl_completion_matches(text, gen_command);
	default:
		return NULL;
	}
	return rl_completion_matches(text, gen_from_list);
}

/* ---- Ctrl-C ---- */

static void
on_sigint(int sig)
{
	int	saved = errno;
	char	c = 'c';

	(void)sig;
	got_sigint = 1;
	if (cancel_pipe[1] != -1)
		(void)!write(cancel_pipe[1], &c, 1);
	errno = saved;
}

/* A statement is running: stop it over a second connection. */
static void *
canceller(void *arg)
{
	struct session	*se = arg;
	char		 c;

	while (read(cancel_pipe[0], &c, 1) == 1)
		db_cancel(se->db);
	return NULL;
}

static void
signals_init(struct session *se)
{
	struct sigaction	sa;
	pthread_t		thread;
	sigset_t		set, old;

	if (pipe(cancel_pipe) != 0)
		fatalx("pipe: %s", strerror(errno));
	/* The watcher never takes the signal itself. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	if (pthread_create(&thread, NULL, canceller, se) == 0)
		pthread_detach(thread);
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_sigint;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
}

/* ---- the terminal ---- */

static const char *
prompt(struct session *se)
{
	return db_in_txn(se->db) ? "tidbplay (txn)> " : "tidbplay> ";
}

static void
line_done(char *line)
{
	struct session	*se = cur;

	rl_callback_handler_remove();
	if (line == NULL) {
		/* Ctrl-D */
		putchar('\n');
		se->quit = 1;
		return;
	}
	history_add(line);
	se->line++;
	got_sigint = 0;
	run_line(se, line, strlen(line));
	free(line);
	if (got_sigint && !se->quit)
		fputs("\n", stderr);
	got_sigint = 0;
	if (!se->quit)
		rl_callback_handler_install(prompt(se), line_done);
}

int
repl_ask(const char *question)
{
	char	*answer;
	int	 yes;

	answer = readline(question);
	yes = answer != NULL && (strcmp(answer, "y") == 0 ||
	    strcmp(answer, "yes") == 0 || strcmp(answer, "Y") == 0);
	free(answer);
	return yes;
}

int
session_confirm(struct session *se, const char *question)
{
	if (!se->interactive)
		return 1;
	return repl_ask(question);
}

int
repl_run(struct session *se)
{
	fd_set	fds;
	int	rc;

	cur = se;
	se->source = "tty";
	rl_readline_name = "tidbplay";
	rl_attempted_completion_function = complete;
	rl_completer_quote_characters = "'\"";
	rl_basic_word_break_characters = " \t;";
	history_open(se);
	signals_init(se);
	if (!se->quiet)
		printf("tidbplay %s: type help for the commands, quit or Ctrl-D "
		    "to leave\n", PACKAGE_VERSION);

	rl_callback_handler_install(prompt(se), line_done);
	while (!se->quit) {
		FD_ZERO(&fds);
		FD_SET(STDIN_FILENO, &fds);
		rc = select(STDIN_FILENO + 1, &fds, NULL, NULL, NULL);
		if (rc == -1 && errno == EINTR) {
			if (got_sigint) {
				/* Ctrl-C at the prompt clears the line. */
				got_sigint = 0;
				rl_free_line_state();
				rl_callback_sigcleanup();
				rl_replace_line("", 0);
				rl_crlf();
				rl_on_new_line();
				rl_redisplay();
			}
			continue;
		}
		if (rc == -1) {
			session_error(se, "select: %s", strerror(errno));
			break;
		}
		rl_callback_read_char();
	}
	rl_callback_handler_remove();
	history_close();
	while (gen_names.n > 0)
		free(gen_names.v[--gen_names.n]);
	free(gen_names.v);
	return se->failed ? -1 : 0;
}
