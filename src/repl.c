/*
 * The terminal: GNU Readline (completion, history), the signals (Ctrl-C
 * cancels the running statement, Ctrl-Z, a resized window, the ones that
 * end the program), the del question, and each line's output through the
 * pager (pager.c). Readline is never used when standard input is not a
 * terminal: it would echo the script (script.c reads those).
 */
#include "config.h"

#include <sys/select.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "session.h"

#define HISTORY_MAX	1000
#define COMPLETE_NAMES	100

static struct session	*cur;		/* for readline's callbacks */
static char		*histfile;
static volatile sig_atomic_t got_sigint;
static volatile sig_atomic_t got_sigwinch;
static volatile sig_atomic_t got_sigtstp;
static volatile sig_atomic_t got_term;	/* SIGTERM, SIGHUP or SIGQUIT */
static volatile sig_atomic_t running;	/* a command is running */
#define COMPLETE_WAIT_MS 1000	/* a completion's query, at most */

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
		warning("history %s: %s", histfile, strerror(errno));
		free(histfile);
		histfile = NULL;
		return;
	}
	fchmod(fd, 0600);
	close(fd);
	read_history(histfile);
}

/* A line that starts with a blank is kept out, as in the shells. */
static void
history_add(const char *line)
{
	HIST_ENTRY	*last;
	char		*copy;
	size_t		 len = strlen(line);

	if (*line == '\0' || *line == ' ')
		return;
	/* Completion leaves a blank after the last word: not worth keeping. */
	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	copy = xstrndup(line, len);
	last = history_length > 0 ? history_get(history_base +
	    history_length - 1) : NULL;
	if (last == NULL || strcmp(last->line, copy) != 0) {
		add_history(copy);
		/* Appended line by line: two shells do not overwrite each other. */
		if (histfile != NULL)
			append_history(1, histfile);
	}
	free(copy);
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

/*
 * One generator for every list of words: commands, a command's sub-words,
 * formats, on/off, columns. gen_word gives the i-th word of the list in
 * use, or NULL after the last.
 */
static const char	*(*gen_word)(size_t);
static const char *const *gen_list;
static const char	*gen_cmd;

static const char *
list_word(size_t i)
{
	return gen_list[i];
}

static const char *
sub_word(size_t i)
{
	return command_sub(gen_cmd, i);
}

static char *
gen_words(const char *text, int state)
{
	static size_t	i;
	const char	*w;

	if (state == 0)
		i = 0;
	while ((w = gen_word(i)) != NULL) {
		i++;
		if (strncmp(w, text, strlen(text)) == 0)
			return xstrdup(w);
	}
	return NULL;
}

/* The matches of text among the words of list. */
static char **
words_matching(const char *text, const char *(*list)(size_t))
{
	gen_word = list;
	return rl_completion_matches(text, gen_words);
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
	char		*m, *why;

	if (pl->name_null)
		return 0;
	/* A name no command would take (put there by another program). */
	if (check_name(pl->name, pl->namelen, &why) != 0) {
		free(why);
		return 0;
	}
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

/*
 * The names that start with text, or none if the server is slow to say.
 * What the connection says meanwhile (a reconnect) would land in the
 * middle of the line being edited: it is kept, then shown on a line of
 * its own, and readline draws the prompt again below it.
 */
static void
bounded_names(const char *text)
{
	FILE	*said, *err = stderr;
	char	*cause, *msg = NULL;
	size_t	 len = 0;

	if ((said = open_memstream(&msg, &len)) != NULL)
		stderr = said;
	/*
	 * The prompt must not wait on a server that does not answer: after
	 * a short while the query is given up (the next command connects
	 * again).
	 */
	db_wait_limit(cur->db, COMPLETE_WAIT_MS / 1000.0);
	if (player_names(cur->db, text, COMPLETE_NAMES, collect_name,
	    &gen_names, &cause) != DB_OK)
		free(cause);
	db_wait_limit(cur->db, 0);
	if (said == NULL)
		return;
	stderr = err;
	fclose(said);
	if (len > 0) {
		rl_crlf();
		fflush(rl_outstream);
		fwrite(msg, 1, len, stderr);
		rl_on_new_line();
	}
	free(msg);
}

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
		    &cause) == 0)
			bounded_names(text);
		else
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
	struct words	*cmds = NULL;
	size_t		 ncmds = 0, cut;
	char		*before, *p, *cause, **w, **m;
	int		 n, arg, kind;

	(void)end;
	rl_attempted_completion_over = 1;
	/*
	 * The words of this command before the one being completed, split
	 * as the command will be (so 'two words' is one), without the quote
	 * that opens the word being completed.
	 */
	cut = start;
	if (rl_completion_quote_character != 0 && cut > 0 &&
	    rl_line_buffer[cut - 1] == rl_completion_quote_character)
		cut--;
	before = xstrndup(rl_line_buffer, cut);
	if ((p = strrchr(before, ';')) == NULL)
		p = before;
	else
		p++;
	if (split_line(p, strlen(p), &cmds, &ncmds, &cause) != 0) {
		free(cause);
		free(before);
		return NULL;
	}
	free(before);
	n = ncmds > 0 ? cmds[0].argc : 0;
	w = ncmds > 0 ? cmds[0].argv : NULL;
	if (n == 0) {
		free_words(cmds, ncmds);
		return words_matching(text, command_word);
	}
	gen_cmd = w[0];
	if (n == 1 && command_sub(w[0], 0) != NULL) {
		m = words_matching(text, sub_word);
		free_words(cmds, ncmds);
		return m;
	}
	arg = n - (command_sub(w[0], 0) != NULL ? 2 : 1);
	kind = command_arg_kind(w[0], command_sub(w[0], 0) != NULL && n > 1 ?
	    w[1] : NULL, arg);
	free_words(cmds, ncmds);
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
	case A_PAGER:
		gen_list = onoff;
		break;
	case A_COLUMN:
		gen_list = columns;
		break;
	case A_COMMAND:
		return words_matching(text, command_word);
	default:
		return NULL;
	}
	return words_matching(text, list_word);
}

/* ---- Ctrl-C ---- */

static void
on_sigint(int sig)
{
	(void)sig;
	got_sigint = 1;
	/*
	 * At the prompt or a question feed_readline sees the flag; while a
	 * command runs, whatever it waits on in poll() wakes.
	 */
	if (running)
		intr_raise();
}

static void
on_sigwinch(int sig)
{
	(void)sig;
	got_sigwinch = 1;
}

/* Only installed while readline has the terminal; else the default. */
static void
on_sigtstp(int sig)
{
	(void)sig;
	got_sigtstp = 1;
}

static void
tstp_handler(int ours)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sa.sa_handler = ours ? on_sigtstp : SIG_DFL;
	sigaction(SIGTSTP, &sa, NULL);
}

/* The signals that end the program, each given the terminal back first. */
static const int ending_signals[] = { SIGTERM, SIGHUP, SIGQUIT };

/* The terminal as the user had it, before readline changed anything. */
static struct termios	tty_orig;
static int		tty_orig_saved;

static void
die_by(int sig)
{
	struct sigaction	sa;
	sigset_t		set;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	_exit(128 + sig);
}

/*
 * At the prompt or a question the signals are blocked but while waiting
 * for a key, so feed_readline ends the program in its own time: readline
 * gives the terminal back and the history is written. While a command
 * runs the handler does what can be done in a handler, which is enough:
 * the terminal is as readline leaves it between lines, only ECHOCTL off,
 * and every line is in the history file as soon as it is typed.
 */
static void
on_term(int sig)
{
	if (!running) {
		got_term = sig;
		return;
	}
	pager_kill();
	if (tty_orig_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &tty_orig);
	die_by(sig);
}

/* From feed_readline, the signals blocked: leave as the user would. */
static void
end_by_signal(int sig)
{
	rl_callback_handler_remove();
	rl_crlf();
	if (tty_orig_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &tty_orig);
	history_close();
	fflush(stdout);
	die_by(sig);
}

static void
signals_init(struct session *se)
{
	struct sigaction	sa;
	size_t			i;

	(void)se;
	if (tcgetattr(STDIN_FILENO, &tty_orig) == 0)
		tty_orig_saved = 1;
	intr_init();

	memset(&sa, 0, sizeof sa);
	sigemptyset(&sa.sa_mask);
	/*
	 * SA_RESTART: a write to the terminal or the pager goes on; poll()
	 * and pselect() are interrupted all the same, and the pipe wakes
	 * whatever waits on the server.
	 */
	sa.sa_flags = SA_RESTART;
	sa.sa_handler = on_sigint;
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_sigwinch;
	sigaction(SIGWINCH, &sa, NULL);
	sa.sa_handler = on_term;
	for (i = 0; i < sizeof ending_signals / sizeof ending_signals[0]; i++)
		sigaction(ending_signals[i], &sa, NULL);
}

/*
 * While a command runs the terminal is in its ordinary mode, where Ctrl-C
 * would echo "^C" in the middle of the output or just before the
 * "cancelled" error. The error says it; the echo is turned off meanwhile.
 */
static int	tty_had_echoctl = -1;	/* as the user set the terminal */

static void
tty_echoctl(int on)
{
	struct termios	t;

	if (tcgetattr(STDIN_FILENO, &t) != 0)
		return;
	if (tty_had_echoctl == -1)
		tty_had_echoctl = (t.c_lflag & ECHOCTL) != 0;
	if (on && tty_had_echoctl)
		t.c_lflag |= ECHOCTL;
	else
		t.c_lflag &= ~ECHOCTL;
	tcsetattr(STDIN_FILENO, TCSANOW, &t);
}

/* ---- the terminal ---- */

/*
 * The prompt setting, its escapes in the mysql client's style: \h host,
 * \p port, \d database, \u user, \T the transaction's mark (* open, !
 * ended by the server), \\ a backslash; any other \x is x, as there.
 */
static char *
prompt_expand(struct session *se, const char *fmt)
{
	const struct settings	*s = se->s;
	enum txn_state		 txn = db_txn(se->db);
	char			*buf = NULL;
	size_t			 size = 0;
	unsigned int		 port;
	FILE			*f;

	if ((f = open_memstream(&buf, &size)) == NULL)
		fatalx("open_memstream: %s", strerror(errno));
	for (; *fmt != '\0'; fmt++) {
		if (*fmt != '\\' || fmt[1] == '\0') {
			putc(*fmt, f);
			continue;
		}
		switch (*++fmt) {
		case 'h':
			fputs(db_host(se->db, &port), f);
			break;
		case 'p':
			(void)db_host(se->db, &port);
			fprintf(f, "%u", port);
			break;
		case 'd':
			fputs(s->database, f);
			break;
		case 'u':
			fputs(s->user, f);
			break;
		case 'T':
			fputs(txn == TXN_OPEN ? "*" : txn == TXN_GONE ? "!" : "",
			    f);
			break;
		default:
			putc(*fmt, f);
			break;
		}
	}
	if (fclose(f) != 0)
		fatalx("open_memstream: %s", strerror(errno));
	return buf;
}

/* The prompt for the next line, to be freed. */
static char *
prompt(struct session *se)
{
	if (se->s->prompt != NULL)
		return prompt_expand(se, se->s->prompt);
	switch (db_txn(se->db)) {
	case TXN_OPEN:
		return xstrdup("tidbplay (txn)> ");
	case TXN_GONE:
		return xstrdup("tidbplay (txn gone)> ");
	case TXN_NONE:
		break;
	}
	return xstrdup("tidbplay> ");
}

/*
 * Ctrl-Z at the prompt: the terminal as it was, stop, then back again. The
 * signals are blocked here (feed_readline); only SIGTSTP is let through.
 */
static void
suspend(void)
{
	struct sigaction	sa, old;
	sigset_t		tstp;

	rl_cleanup_after_signal();
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTSTP, &sa, &old);
	sigemptyset(&tstp);
	sigaddset(&tstp, SIGTSTP);
	raise(SIGTSTP);
	/* Pending until unblocked; the process stops here until fg. */
	sigprocmask(SIG_UNBLOCK, &tstp, NULL);
	sigprocmask(SIG_BLOCK, &tstp, NULL);
	sigaction(SIGTSTP, &old, NULL);
	rl_reset_after_signal();
	rl_forced_update_display();
}

/* Ctrl-C at the prompt: the line ends with ^C, as in a shell, and goes. */
static void
drop_line(void)
{
	rl_point = rl_end;
	rl_redisplay();
	rl_echo_signal_char(SIGINT);
	rl_callback_sigcleanup();
	rl_free_line_state();
	rl_replace_line("", 0);
	rl_crlf();
	using_history();
}

/*
 * Wait for readline's handler to be called, feeding it one character at a
 * time. Returns 1 when interrupted by Ctrl-C (the typed text is dropped),
 * 0 when *done was set, -1 on error. The signals are blocked but while
 * waiting (pselect) and while readline works, so that one that comes just
 * before the wait is not left unseen until the next key.
 */
static int
feed_readline(const int *done)
{
	sigset_t	block, orig;
	fd_set		fds;
	size_t		i;
	int		rc = 0;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTSTP);
	sigaddset(&block, SIGWINCH);
	for (i = 0; i < sizeof ending_signals / sizeof ending_signals[0]; i++)
		sigaddset(&block, ending_signals[i]);
	sigprocmask(SIG_BLOCK, &block, &orig);
	tstp_handler(1);
	while (!*done) {
		if (got_term)
			end_by_signal(got_term);
		if (got_sigwinch) {
			got_sigwinch = 0;
			rl_resize_terminal();
		}
		if (got_sigtstp) {
			got_sigtstp = 0;
			suspend();
		}
		if (got_sigint) {
			got_sigint = 0;
			drop_line();
			rc = 1;
			break;
		}
		FD_ZERO(&fds);
		FD_SET(STDIN_FILENO, &fds);
		if (pselect(STDIN_FILENO + 1, &fds, NULL, NULL, NULL,
		    &orig) == -1) {
			if (errno == EINTR)
				continue;
			rc = -1;
			break;
		}
		sigprocmask(SIG_SETMASK, &orig, NULL);
		rl_callback_read_char();
		sigprocmask(SIG_BLOCK, &block, NULL);
	}
	tstp_handler(0);
	sigprocmask(SIG_SETMASK, &orig, NULL);
	return rc;
}

static char	*ask_answer;
static int	 ask_done;

static void
ask_line(char *line)
{
	rl_callback_handler_remove();
	ask_answer = line;
	ask_done = 1;
}

/*
 * A yes/no question in the middle of a command. Ctrl-C or Ctrl-D answers
 * no; so does anything but y or yes.
 */
static int
repl_ask(const char *question)
{
	int	yes, rc, was_running = running;

	pager_hold_off();	/* the terminal is the question's */
	ask_answer = NULL;
	ask_done = 0;
	running = 0;
	got_sigint = 0;
	tty_echoctl(1);		/* readline echoes ^C when the tty would */
	rl_callback_handler_install(question, ask_line);
	rc = feed_readline(&ask_done);
	if (!ask_done) {
		rl_callback_handler_remove();
		if (rc != 1)
			rl_crlf();
	} else if (ask_answer == NULL)
		rl_crlf();	/* Ctrl-D: end the question's line */
	yes = ask_answer != NULL && (strcasecmp(ask_answer, "y") == 0 ||
	    strcasecmp(ask_answer, "yes") == 0);
	free(ask_answer);
	ask_answer = NULL;
	tty_echoctl(0);
	got_sigint = 0;
	running = was_running;
	return yes;
}

static int	line_ready;
static char	*line_read;

static void
line_done(char *line)
{
	rl_callback_handler_remove();
	line_read = line;
	line_ready = 1;
}

static void
run_typed(struct session *se, char *line)
{
	history_add(line);
	se->line++;
	got_sigint = 0;
	db_command_begin(se->db);
	tty_echoctl(0);
	running = 1;
	pager_line_begin(se);
	run_line(se, line, strlen(line));
	pager_line_end();
	running = 0;
	tty_echoctl(1);
	got_sigint = 0;
}

/* The banner says where the commands will go, and how safely. */
static void
banner(struct session *se)
{
	struct db_info	info;
	char		*from, *where;

	db_info(se->db, &info);
	where = host_port(info.host, info.port);
	printf("tidbplay %s, connected to %s@%s, database %s\n",
	    PACKAGE_VERSION, info.user, where, info.database);
	free(where);
	from = settings_origins(se->s);
	printf("%s\n", from);
	free(from);
	printf("%s %s, ", info.tidb != NULL ? "TiDB" : "server",
	    info.tidb != NULL ? info.tidb : info.server != NULL ?
	    info.server : "?");
	if (info.tls_version != NULL)
		printf("%s, certificate verified\n", info.tls_version);
	else
		printf("not encrypted\n");
	printf("Type help for the commands, quit or Ctrl-D to leave.\n");
	free(info.tidb);
}

int
repl_run(struct session *se)
{
	char	*p;
	int	 rc;

	cur = se;
	se->source = "tty";
	se->confirm = repl_ask;
	db_want_cancel(se->db);
	rl_readline_name = "tidbplay";
	rl_attempted_completion_function = complete;
	rl_completer_quote_characters = "'\"";
	rl_basic_word_break_characters = " \t;";
	/*
	 * The signals are ours: readline's handlers would take Ctrl-C while
	 * a key is being handled, and the cancelling is done here.
	 */
	rl_catch_signals = 0;
	rl_catch_sigwinch = 0;
	tty_echoctl(1);		/* notes the user's setting, changes nothing */
	history_open(se);
	signals_init(se);
	if (!se->quiet)
		banner(se);
	fflush(stdout);

	while (!se->quit) {
		line_ready = 0;
		line_read = NULL;
		p = prompt(se);
		rl_callback_handler_install(p, line_done);	/* copies it */
		free(p);
		rc = feed_readline(&line_ready);
		if (rc == 1) {
			rl_callback_handler_remove();
			continue;	/* Ctrl-C: a fresh prompt */
		}
		if (rc == -1) {
			rl_callback_handler_remove();
			session_error(se, "reading the terminal: %s",
			    strerror(errno));
			break;
		}
		if (line_read == NULL) {
			/* Ctrl-D */
			putchar('\n');
			break;
		}
		run_typed(se, line_read);
		free(line_read);
	}
	history_close();
	while (gen_names.n > 0)
		free(gen_names.v[--gen_names.n]);
	free(gen_names.v);
	return se->failed ? -1 : 0;
}
