/*
 * The line sources that are not a terminal: standard input, -f files and
 * sourced files, read in large blocks, and the -e string. Consecutive adds
 * that have already arrived go to the server as one multi-row INSERT.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "session.h"

/*
 * Lines from a file descriptor, read in large blocks. Unlike stdio it can
 * say whether another line is already waiting, which lets consecutive adds
 * go to the server together without ever waiting for input to do so.
 */
struct lines {
	int	 fd;
	char	*buf;
	size_t	 start;
	size_t	 end;
	size_t	 size;
	int	 eof;
};

/* The next line, newline included; 1, 0 at the end, -1 on an error. */
static int
lines_next(struct lines *lr, const char **line, size_t *len)
{
	char	*nl;
	ssize_t	 n;

	for (;;) {
		nl = memchr(lr->buf + lr->start, '\n', lr->end - lr->start);
		if (nl != NULL || (lr->eof && lr->start < lr->end)) {
			*line = lr->buf + lr->start;
			*len = nl != NULL ? (size_t)(nl + 1 - *line) :
			    lr->end - lr->start;
			lr->start += *len;
			return 1;
		}
		if (lr->eof)
			return 0;
		if (lr->start > 0) {
			memmove(lr->buf, lr->buf + lr->start,
			    lr->end - lr->start);
			lr->end -= lr->start;
			lr->start = 0;
		}
		if (lr->end == lr->size) {
			lr->size *= 2;
			lr->buf = xrealloc(lr->buf, lr->size);
		}
		n = read(lr->fd, lr->buf + lr->end, lr->size - lr->end);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0)
			lr->eof = 1;
		lr->end += n;
	}
}

/*
 * The data of an import - that follows its command: what is buffered
 * past the current line, then more; what the reader leaves goes back.
 */
static int
lines_chunk(void *arg, const char **p, size_t *len)
{
	struct lines	*lr = arg;
	ssize_t		 n;

	if (lr->start == lr->end) {
		if (lr->eof)
			return 0;
		do
			n = read(lr->fd, lr->buf, lr->size);
		while (n == -1 && errno == EINTR);
		if (n <= 0) {
			lr->eof = n == 0;
			return n == 0 ? 0 : -1;
		}
		lr->start = 0;
		lr->end = (size_t)n;
	}
	*p = lr->buf + lr->start;
	*len = lr->end - lr->start;
	lr->start = lr->end;
	return 1;
}

static void
lines_unread(void *arg, size_t n)
{
	struct lines	*lr = arg;

	lr->start -= n;
}

/* Whether the next line can be had without waiting for the writer. */
static int
lines_waiting(struct lines *lr)
{
	struct pollfd	pfd;

	if (lr->eof || memchr(lr->buf + lr->start, '\n',
	    lr->end - lr->start) != NULL)
		return !lr->eof || lr->start < lr->end;
	pfd.fd = lr->fd;
	pfd.events = POLLIN;
	return poll(&pfd, 1, 0) == 1;
}

/*
 * Grouping: the statement is applied whole or not at all, so a group that
 * fails simply runs the same lines again one by one, which reports the
 * failing line exactly as it would have been without grouping. A group
 * whose fate is unknown (the connection went while it was sent) is never
 * run again: its lines are reported as such. Inside a transaction, with
 * timing on, or at a terminal, every line runs on its own.
 */
#define QUEUE_MAX	1000

struct add_queue {
	struct player	 rows[QUEUE_MAX];
	char		*lines[QUEUE_MAX];
	size_t		 lens[QUEUE_MAX];
	unsigned long	 linenos[QUEUE_MAX];
	unsigned int	 n;
};

struct script {
	struct session	*se;
	struct add_queue *q;
};

static void
queue_clear(struct add_queue *q)
{
	while (q->n > 0)
		free(q->lines[--q->n]);
}

/* The group was added: each line says its id, as it would alone. */
static int
queue_added(struct session *se, struct add_queue *q)
{
	unsigned int	 i;
	char		*cause;

	if (player_ids(se->db, q->rows, q->n, &cause) != DB_OK) {
		se->line = q->linenos[0];
		session_error(se, "added the players of lines %lu-%lu, but "
		    "cannot read their ids: %s", q->linenos[0],
		    q->linenos[q->n - 1], cause);
		free(cause);
		return -1;
	}
	for (i = 0; i < q->n; i++) {
		se->line = q->linenos[i];
		if (q->rows[i].id == -1) {
			session_error(se, "'%s' was added but is gone already "
			    "(deleted by another session?)", q->rows[i].name);
			return -1;
		}
		command_added(se, q->rows[i].name,
		    (unsigned long long)q->rows[i].id);
		/* As each line alone would: one that cannot say its id fails. */
		if (command_results_lost(se, "add") != 0)
			return -1;
	}
	return 0;
}

/* The lines one by one, as they would have run without grouping. */
static int
queue_run_lines(struct session *se, struct add_queue *q)
{
	unsigned int	i;
	int		rc = 0;

	for (i = 0; i < q->n; i++) {
		se->line = q->linenos[i];
		if (run_line(se, q->lines[i], q->lens[i]) != 0) {
			rc = -1;
			if (!se->force)
				break;
		}
	}
	return rc;
}

/* Run what is queued; returns -1 when a line failed. */
static int
queue_flush(struct script *sc)
{
	struct session		*se = sc->se;
	struct add_queue	*q = sc->q;
	unsigned long		 line = se->line;
	unsigned int		 i;
	char			*cause;
	int			 rc;

	if (q == NULL || q->n == 0)
		return 0;
	db_between_commands(se->db);
	rc = q->n == 1 ? DB_FAIL : load_add_many(se->db, q->rows, q->n,
	    &cause);
	if (rc == DB_OK)
		rc = queue_added(se, q);
	else if (rc == DB_UNKNOWN) {
		se->line = q->linenos[0];
		session_error(se, "lines %lu-%lu: %s", q->linenos[0],
		    q->linenos[q->n - 1], cause);
		free(cause);
		for (i = 0; i < q->n; i++)
			session_show_now(se, q->rows[i].name);
		rc = -1;
	} else {
		/* Nothing was added: the lines run one by one. */
		if (q->n > 1)
			free(cause);
		rc = queue_run_lines(se, q);
	}
	queue_clear(q);
	se->line = line;
	return rc;
}

/*
 * When the connection is gone and no host takes a new one, the rest of a
 * script would only fail the same way, slowly: it stops, --force or not.
 */
static int
server_left(struct session *se)
{
	if (db_connected(se->db))
		return 1;
	if (!se->lost)
		say("no server to run the rest of %s on: stopping",
		    se->source);
	se->lost = 1;
	return 0;
}

/* After lines that returned rc: 0 to read on, -1 to stop. */
static int
go_on(struct session *se, int rc)
{
	if (!server_left(se))
		return -1;
	return rc != 0 && !se->force ? -1 : 0;
}

/*
 * A script's line: queued when it is an add that can join the others
 * (more says whether another line is already waiting), else run after
 * what is queued. Returns -1 when the script should stop.
 */
static int
script_line(struct script *sc, const char *line, size_t len, int more)
{
	struct session		*se = sc->se;
	struct add_queue	*q;

	if (!se->timing && db_txn(se->db) == TXN_NONE &&
	    (sc->q != NULL || more)) {
		if (sc->q == NULL)
			sc->q = xcalloc(1, sizeof *sc->q);
		q = sc->q;
		if (command_add_row(line, len, &q->rows[q->n])) {
			q->lines[q->n] = xstrndup(line, len);
			q->lens[q->n] = len;
			q->linenos[q->n++] = se->line;
			if (more && q->n < QUEUE_MAX && q->n < se->s->batch)
				return 0;
			return go_on(se, queue_flush(sc));
		}
	}
	if (go_on(se, queue_flush(sc)) != 0)
		return -1;
	return go_on(se, run_line(se, line, len));
}

static int
script_end(struct script *sc)
{
	if (queue_flush(sc) != 0)
		sc->se->failed = 1;
	/* The last lines may have been the ones that lost the server. */
	(void)server_left(sc->se);
	if (sc->q != NULL)
		queue_clear(sc->q);
	free(sc->q);
	sc->q = NULL;
	return sc->se->failed ? -1 : 0;
}

/*
 * The files being read, outermost first, so that a script that sources
 * itself (directly or through others) is an error rather than a descent
 * until the stack runs out; and a bound on how deep sources may go.
 */
#define SOURCE_DEPTH	16

static struct reading {
	dev_t		 dev;
	ino_t		 ino;
	const char	*name;
} reading[SOURCE_DEPTH + 1];		/* -f or stdin, then the sourced */
static int	nreading;
static int	depth;			/* sources running */
/* The file whose lines run now (-f FILE, source FILE); NULL: none. */
static const char *reading_file;

static int
reading_push(int fd, const char *name)
{
	struct stat	sb;

	if (nreading == SOURCE_DEPTH + 1 || fstat(fd, &sb) != 0)
		return 0;
	reading[nreading].dev = sb.st_dev;
	reading[nreading].ino = sb.st_ino;
	reading[nreading].name = name;
	nreading++;
	return 1;
}

static const struct reading *
reading_find(const struct stat *sb)
{
	int	i;

	for (i = 0; i < nreading; i++) {
		if (reading[i].dev == sb->st_dev &&
		    reading[i].ino == sb->st_ino)
			return &reading[i];
	}
	return NULL;
}

int
script_run(struct session *se, int fd, const char *source)
{
	struct script	 sc = { se, NULL };
	struct lines	 lr = { fd, NULL, 0, 0, 65536, 0 };
	struct input	 in = { .next = lines_chunk, .unread = lines_unread,
			       .arg = &lr, .line = 1 };
	struct input	*was = se->input;
	const char	*line, *was_file = reading_file;
	size_t		 len;
	int		 rc = 0, pushed;

	pushed = reading_push(fd, source);
	lr.buf = xmalloc(lr.size);
	se->source = source;
	se->line = 0;
	reading_file = fd == STDIN_FILENO ? NULL : source;
	/*
	 * Commands from standard input, or from a sourced file: import -
	 * reads the lines after it, from the same source as the command, as
	 * psql's \copy from stdin does (with -f FILE standard input is the
	 * data, as the manual says).
	 */
	if (fd == STDIN_FILENO || depth > 0)
		se->input = &in;
	while (!se->quit && (rc = lines_next(&lr, &line, &len)) == 1) {
		/*
		 * The input counts the lines: an import - that reads on from
		 * here (here, or in a file sourced from here) moves it on.
		 */
		se->line = in.line++;
		/* A byte order mark is no part of the first command. */
		if (se->line == 1 && len >= 3 &&
		    memcmp(line, "\xef\xbb\xbf", 3) == 0) {
			line += 3;
			len -= 3;
		}
		if (script_line(&sc, line, len, lines_waiting(&lr)) != 0)
			break;
	}
	if (rc == -1)
		session_error(se, "read error: %s", strerror(errno));
	se->input = was;
	reading_file = was_file;
	free(lr.buf);
	rc = script_end(&sc);
	if (pushed)
		nreading--;
	return rc;
}

static int
source_open(struct session *se, const char *path)
{
	const struct reading	*r;
	struct stat		 sb;
	int			 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(fd, &sb) != 0) {
		session_error(se, "source: %s: %s", path, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	if (S_ISDIR(sb.st_mode) || depth == SOURCE_DEPTH ||
	    (r = reading_find(&sb)) != NULL) {
		if (S_ISDIR(sb.st_mode))
			session_error(se, "source: %s: %s", path,
			    strerror(EISDIR));
		else if (depth == SOURCE_DEPTH)
			session_error(se, "source: %s: more than %d scripts "
			    "sourced inside one another", path, SOURCE_DEPTH);
		else
			session_error(se, "source: %s: already being read%s%s "
			    "(a script that sources itself would never end)",
			    path, strcmp(r->name, path) != 0 ? " as " : "",
			    strcmp(r->name, path) != 0 ? r->name : "");
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * The source command: the file's lines run in this session as a script
 * (wherever it is sourced from: no questions, errors as FILE:LINE:),
 * stopping at the first that fails unless --force. Returns -1 when a line
 * failed; the session's place is as it was after.
 */
int
script_source(struct session *se, const char *path)
{
	const char	*source = se->source, *slash;
	unsigned long	 line = se->line;
	int		 interactive = se->interactive;
	int		(*confirm)(const char *) = se->confirm;
	int		 failed = se->failed, fd, rc;
	char		*near = NULL;

	/*
	 * Inside a file, a relative path is the file's neighbour (psql's
	 * \ir), so that a script and what it sources move together and run
	 * from any directory; typed, from -e or standard input it is
	 * relative to the current directory (psql's \i).
	 */
	if (*path != '/' && reading_file != NULL &&
	    (slash = strrchr(reading_file, '/')) != NULL) {
		xasprintf(&near, "%.*s/%s", (int)(slash - reading_file),
		    reading_file, path);
		path = near;
	}
	fd = source_open(se, path);
	if (fd == -1) {
		free(near);
		return -1;
	}
	se->interactive = 0;
	se->confirm = NULL;
	se->failed = 0;
	depth++;
	script_run(se, fd, path);
	depth--;
	close(fd);
	rc = se->failed ? -1 : 0;
	se->failed |= failed;
	se->source = source;
	se->line = line;
	se->interactive = interactive;
	se->confirm = confirm;
	free(near);
	return rc;
}

int
execute_run(struct session *se, const char *cmds, const char *name)
{
	struct script	 sc = { se, NULL };
	const char	*p = cmds, *nl;

	se->source = name;
	se->line = 0;
	while (!se->quit && *p != '\0') {
		se->line++;
		nl = strchr(p, '\n');
		if (script_line(&sc, p, nl == NULL ? strlen(p) :
		    (size_t)(nl - p), nl != NULL && nl[1] != '\0') != 0)
			break;
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return script_end(&sc);
}
