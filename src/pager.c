/*
 * The pager, at a terminal only. While a typed line runs, standard output
 * (and the results' stream) goes into a stream of ours that holds what is
 * written until it is taller than the screen; then the pager is started,
 * given what was held, and everything after streams straight to it, so a
 * result of any size goes to the pager as its rows arrive. Output that
 * fits is printed as it would have been. Standard error goes through a
 * stream of ours too, so that messages keep their place: one written while
 * output is held lets the held output out first (no pager then), and one
 * written while the pager has the screen waits until it has gone.
 *
 * When the pager quits early, writing to it fails with EPIPE, as writing
 * into a closed pipe does: the row callback returns nonzero and the rest
 * of the result is dropped the way any closed pipe drops it.
 *
 * A pager that fails (a command that does not exist, one that exits with
 * a status other than 0) is no way to quit: it is said, and the output
 * is shown without it. For that, what went into the pager is kept, up to
 * REPLAY_MAX bytes (so memory does not grow with the result); beyond that
 * the rows already given to it cannot be shown again, and that is said.
 */
#include "config.h"

#include <sys/ioctl.h>
#include <sys/wait.h>

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "session.h"
#include "output.h"

#define DEFAULT_PAGER	"less"
#define DEFAULT_FLAGS	"-SFRX"	/* chop, quit if one screen, raw, no init */
#define REPLAY_MAX	(1024 * 1024)

enum pstate {
	P_OFF,		/* not this line: the real streams */
	P_HOLD,		/* output held until it does not fit */
	P_DIRECT,	/* straight to the terminal */
	P_PAGING,	/* into the pager's pipe */
	P_GONE		/* the pager closed its end */
};

static struct {
	enum pstate	 state;
	struct session	*se;
	FILE		*real_out;
	FILE		*real_err;
	FILE		*out;		/* ours, in place of stdout */
	FILE		*err;		/* ours, in place of stderr */
	char		*held;		/* held output */
	size_t		 nheld;
	size_t		 held_size;
	char		*later;		/* messages for after the pager */
	size_t		 nlater;
	size_t		 later_size;
	unsigned long	 lines;		/* screen lines of the held output */
	unsigned long	 col;
	unsigned short	 rows;
	unsigned short	 cols;
	volatile pid_t	 pid;		/* the pager, or 0 */
	const char	*cmd;		/* its command ("": less) */
	int		 fd;		/* its pipe */
	int		 replay_lost;	/* held no longer has all it was given */
	struct sigaction old_pipe;
} pg = { .fd = -1 };

static void
append(char **buf, size_t *n, size_t *size, const char *p, size_t len)
{
	if (len == 0)
		return;
	if (*n + len > *size) {
		*size = (*n + len) * 2;
		*buf = xrealloc(*buf, *size);
	}
	memcpy(*buf + *n, p, len);
	*n += len;
}

static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Screen lines taken by p, a long line wrapping; characters, not bytes. */
static void
count_lines(const char *p, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		if (p[i] == '\n') {
			pg.lines++;
			pg.col = 0;
		} else if (((unsigned char)p[i] & 0xc0) != 0x80 &&
		    ++pg.col > pg.cols) {
			pg.lines++;
			pg.col = 1;
		}
	}
}

/* Is the pager installed? $PAGER, else less on the PATH. */
static int
on_path(const char *name)
{
	const char	*path = getenv("PATH"), *p, *end;
	char		*file;
	int		 found = 0;

	if (path == NULL || *path == '\0')
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; !found && *p != '\0'; p = *end != '\0' ? end + 1 : end) {
		end = p + strcspn(p, ":");
		xasprintf(&file, "%.*s/%s", (int)(end - p), end == p ? "." : p,
		    name);
		found = access(file, X_OK) == 0;
		free(file);
	}
	return found;
}

/* The command to run ("" for less -SFRX), or NULL for none. */
static const char *
pager_command(const struct session *se)
{
	const char	*set = se->s->pager, *env;

	if (set == NULL || strcmp(set, "off") == 0)
		return NULL;
	if (strcmp(set, "on") != 0)
		return set;
	if ((env = getenv("PAGER")) != NULL && *env != '\0')
		return env;
	/* less on a terminal it cannot drive only complains: no paging. */
	if ((env = getenv("TERM")) == NULL || *env == '\0' ||
	    strcmp(env, "dumb") == 0)
		return NULL;
	return on_path(DEFAULT_PAGER) ? "" : NULL;
}

static int
spawn(const char *cmd)
{
	struct sigaction	sa;
	sigset_t		none;
	int			fds[2];
	pid_t			pid;

	if (pipe(fds) != 0)
		return -1;
	if ((pid = fork()) == -1) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(fds[0], STDIN_FILENO);
		closefrom(STDERR_FILENO + 1);
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = SIG_DFL;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGPIPE, &sa, NULL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (*cmd == '\0')
			execlp(DEFAULT_PAGER, DEFAULT_PAGER, DEFAULT_FLAGS,
			    (char *)NULL);
		else
			execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	/* Writing to a pager that has quit is EPIPE, not the end of us. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, &pg.old_pipe);
	pg.fd = fds[1];
	pg.pid = pid;
	pg.cmd = cmd;
	return 0;
}

/* The held output, out to the terminal as it is. */
static void
let_out(void)
{
	if (pg.nheld > 0)
		fwrite(pg.held, 1, pg.nheld, pg.real_out);
	fflush(pg.real_out);
	pg.nheld = 0;
	pg.state = P_DIRECT;
}

/*
 * The pager has gone (its pipe closed, or it was given everything): wait
 * for it. When it failed rather than quit, say so and show what it was
 * given on the terminal (P_DIRECT from here on). Lock held.
 */
static void
reap(void)
{
	const char	*name = *pg.cmd == '\0' ? DEFAULT_PAGER : pg.cmd;
	char		 why[64];
	int		 status, failed;

	if (pg.fd != -1)
		close(pg.fd);
	pg.fd = -1;
	while (waitpid(pg.pid, &status, 0) == -1 && errno == EINTR)
		;
	pg.pid = 0;
	sigaction(SIGPIPE, &pg.old_pipe, NULL);
	/* A pager the user quit exits 0 (or by SIGPIPE/SIGINT on the way). */
	failed = WIFEXITED(status) ? WEXITSTATUS(status) != 0 :
	    WIFSIGNALED(status) && WTERMSIG(status) != SIGPIPE &&
	    WTERMSIG(status) != SIGINT;
	if (!failed) {
		pg.nheld = 0;
		return;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		snprintf(why, sizeof why, "was not found (exit status 127)");
	else if (WIFEXITED(status))
		snprintf(why, sizeof why, "failed (exit status %d)",
		    WEXITSTATUS(status));
	else
		snprintf(why, sizeof why, "was killed by signal %d",
		    WTERMSIG(status));
	fflush(pg.real_out);
	if (pg.replay_lost)
		fprintf(pg.real_err, "tidbplay: the pager '%s' %s; the "
		    "output it was given is lost (set 'pager off' and run the "
		    "command again)\n", name, why);
	else
		fprintf(pg.real_err, "tidbplay: the pager '%s' %s; the "
		    "output follows without it\n", name, why);
	fflush(pg.real_err);
	if (!pg.replay_lost && pg.nheld > 0)
		fwrite(pg.held, 1, pg.nheld, pg.real_out);
	fflush(pg.real_out);
	pg.nheld = 0;
	pg.state = P_DIRECT;
}

/* Into the pager, and kept to show again should it fail; lock held. */
static int
to_pager(const char *p, size_t len)
{
	if (!pg.replay_lost) {
		if (pg.nheld + len <= REPLAY_MAX)
			append(&pg.held, &pg.nheld, &pg.held_size, p, len);
		else {
			pg.replay_lost = 1;
			pg.nheld = 0;
		}
	}
	if (write_all(pg.fd, p, len) == 0)
		return 0;
	/* It has gone: quit (P_GONE), or failed (P_DIRECT). */
	pg.state = P_GONE;
	reap();
	if (pg.state == P_DIRECT && fwrite(p, 1, len, pg.real_out) == len) {
		fflush(pg.real_out);
		return 0;
	}
	return -1;
}

/* Held output that no longer fits: to the pager, if there is one. */
static void
overflow(void)
{
	const char	*cmd = pager_command(pg.se);
	enum format	 fmt = out_format(pg.se->out);

	if (cmd == NULL || (fmt != FMT_TABLE && fmt != FMT_VERTICAL) ||
	    spawn(cmd) != 0) {
		let_out();
		return;
	}
	pg.state = P_PAGING;
	pg.replay_lost = 0;
	if (write_all(pg.fd, pg.held, pg.nheld) != 0) {
		pg.state = P_GONE;
		reap();
	}
}

static ssize_t
out_write(void *cookie, const char *p, size_t len)
{
	ssize_t	rc = (ssize_t)len;

	(void)cookie;
	switch (pg.state) {
	case P_HOLD:
		append(&pg.held, &pg.nheld, &pg.held_size, p, len);
		count_lines(p, len);
		if (pg.lines >= pg.rows)
			overflow();
		break;
	case P_OFF:
	case P_DIRECT:
		if (fwrite(p, 1, len, pg.real_out) != len)
			rc = -1;
		fflush(pg.real_out);
		break;
	case P_PAGING:
		if (to_pager(p, len) == 0)
			break;
		/* FALLTHROUGH */
	case P_GONE:
		errno = EPIPE;
		rc = -1;
		break;
	}
	return rc;
}

static ssize_t
err_write(void *cookie, const char *p, size_t len)
{
	(void)cookie;
	switch (pg.state) {
	case P_HOLD:
		/* A message after some output: that output goes first. */
		if (pg.nheld > 0)
			let_out();
		/* FALLTHROUGH */
	case P_OFF:
	case P_DIRECT:
		fflush(pg.real_out);
		fwrite(p, 1, len, pg.real_err);
		fflush(pg.real_err);
		break;
	case P_PAGING:
	case P_GONE:
		append(&pg.later, &pg.nlater, &pg.later_size, p, len);
		break;
	}
	return (ssize_t)len;
}

/* The pager has all there is: wait for it, then say what waited. */
static void
pager_wait(void)
{
	if (pg.pid != 0)
		reap();
	if (pg.nlater > 0)
		fwrite(pg.later, 1, pg.nlater, pg.real_err);
	fflush(pg.real_err);
	pg.nlater = 0;
}

/*
 * Before a typed line runs: hold its output when a pager may be wanted
 * (a pager set, a terminal on both ends, a table or vertical result).
 */
void
pager_line_begin(struct session *se)
{
	static const cookie_io_functions_t out_io = { NULL, out_write, NULL,
	    NULL };
	static const cookie_io_functions_t err_io = { NULL, err_write, NULL,
	    NULL };
	struct winsize	ws;
	enum format	fmt = out_format(se->out);

	if (pager_command(se) == NULL || !isatty(STDOUT_FILENO) ||
	    (fmt != FMT_TABLE && fmt != FMT_VERTICAL) ||
	    ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_row < 2 ||
	    ws.ws_col == 0)
		return;
	if (pg.out == NULL) {
		if ((pg.out = fopencookie(NULL, "w", out_io)) == NULL ||
		    (pg.err = fopencookie(NULL, "w", err_io)) == NULL)
			fatalx("fopencookie: %s", strerror(errno));
		setvbuf(pg.out, NULL, _IOLBF, BUFSIZ);
		setvbuf(pg.err, NULL, _IONBF, 0);
	}
	clearerr(pg.out);
	pg.se = se;
	pg.rows = ws.ws_row;
	pg.cols = ws.ws_col;
	pg.lines = pg.col = 0;
	pg.nheld = pg.nlater = 0;
	pg.real_out = stdout;
	pg.real_err = stderr;
	fflush(stdout);
	pg.state = P_HOLD;
	stdout = pg.out;
	stderr = pg.err;
	out_set_file(se->out, pg.out);
}

/*
 * The rest of this line is not paged, and whatever is held or paged is
 * done with first: before a question, which needs the terminal.
 */
void
pager_hold_off(void)
{
	if (pg.state == P_OFF)
		return;
	fflush(pg.out);
	if (pg.state == P_HOLD)
		let_out();
	if (pg.pid != 0 || pg.nlater > 0)
		pager_wait();
	pg.state = P_DIRECT;
}

/* After the line: what was held and fits goes out; the pager ends. */
void
pager_line_end(void)
{
	if (pg.state == P_OFF)
		return;
	pager_hold_off();
	stdout = pg.real_out;
	stderr = pg.real_err;
	out_set_file(pg.se->out, pg.real_out);
	pg.state = P_OFF;
}

/* From a signal handler that ends the program: the pager goes too. */
void
pager_kill(void)
{
	pid_t	pid = pg.pid;

	if (pid > 0)
		kill(pid, SIGTERM);
}
