/*
 * The one wait of the connection. The client library runs non-blocking
 * (MYSQL_OPT_NONBLOCK): each call returns what it waits for on the
 * server's socket, and io_wait() waits for that, for Ctrl-C (the pipe
 * that intr_raise() writes to) and for the deadline, in one poll(), in
 * the one thread there is. Ctrl-C, read_timeout and connect_timeout are
 * events of that wait, and what each means is decided here: Ctrl-C while
 * a statement runs sends KILL QUERY over a second connection and gives
 * the server a moment; a second Ctrl-C, the moment passing, a deadline,
 * or Ctrl-C during a connect give up on the connection.
 */
#include "config.h"

#include "db-private.h"

/*
 * Give up on what the library waits for: the socket is shut, and the
 * library is told that its wait timed out, so the call ends at once with
 * an error. The caller learns why from db->gave_up.
 */
static int
give_up(struct db *db, MYSQL *my, enum gave_up why)
{
	int	fd = (int)mysql_get_socket(my);

	db->gave_up = why;
	if (fd >= 0)
		(void)shutdown(fd, SHUT_RDWR);
	return MYSQL_WAIT_TIMEOUT;
}

static double
earliest(double a, double b)
{
	if (a == 0)
		return b;
	if (b == 0)
		return a;
	return a < b ? a : b;
}

int
io_wait(struct db *db, MYSQL *my, int status, enum wait_kind kind)
{
	struct pollfd	pfd[2];
	double		now = now_seconds(), end = 0, lib_end = 0;
	double		grace_end = 0, wake, limit;
	int		n, ev, timeout_ms;

	if (kind == WAIT_CONNECT)
		end = db->connect_deadline;
	else {
		limit = db->wait_limit > 0 ? db->wait_limit :
		    db->s->read_timeout;
		if (limit > 0)
			end = now + limit;
	}
	if (status & MYSQL_WAIT_TIMEOUT)
		lib_end = now + mysql_get_timeout_value_ms(my) / 1000.0;
	/*
	 * An authentication plugin the library does not have (TiDB's
	 * tidb_sm3_password): the library has said so already, and would
	 * wait for nothing till the deadline.
	 */
	if (kind == WAIT_CONNECT && mysql_errno(my) != 0 &&
	    strstr(mysql_error(my), "could not be loaded") != NULL)
		return give_up(db, my, GAVE_UP_TIMEOUT);
	for (;;) {
		if (intr_pending() > db->intr_seen) {
			/* Ctrl-C: one is acted on once. */
			db->intr_seen = intr_pending();
			intr_drain();
			if (kind == WAIT_CONNECT ||
			    db->conn == CONN_CANCELLING || grace_end != 0)
				return give_up(db, my, GAVE_UP_CANCEL);
			conn_to(db, CONN_CANCELLING);
			if (db->kill == NULL || !db->kill(db, 0))
				return give_up(db, my, GAVE_UP_CANCEL);
			grace_end = now_seconds() + CANCEL_GRACE_SECONDS;
			continue;
		}
		now = now_seconds();
		wake = earliest(earliest(end, lib_end), grace_end);
		if (wake != 0 && now >= wake) {
			if (wake == lib_end)
				return MYSQL_WAIT_TIMEOUT;
			return give_up(db, my, wake == grace_end && wake != end ?
			    GAVE_UP_CANCEL : GAVE_UP_TIMEOUT);
		}
		timeout_ms = wake == 0 ? -1 : (int)ceil((wake - now) * 1000);
		pfd[0].fd = (int)mysql_get_socket(my);
		pfd[0].events = ((status & MYSQL_WAIT_READ) ? POLLIN : 0) |
		    ((status & MYSQL_WAIT_WRITE) ? POLLOUT : 0) |
		    ((status & MYSQL_WAIT_EXCEPT) ? POLLPRI : 0);
		pfd[0].revents = 0;
		pfd[1].fd = intr_fd();
		pfd[1].events = POLLIN;
		pfd[1].revents = 0;
		n = poll(pfd, 2, timeout_ms);
		if (n < 0 && errno != EINTR)
			return give_up(db, my, GAVE_UP_TIMEOUT);
		if (n <= 0 || pfd[0].revents == 0) {
			if (pfd[1].revents != 0 &&
			    intr_pending() == db->intr_seen)
				intr_drain();	/* a byte of an old one */
			continue;
		}
		ev = 0;
		if (pfd[0].revents & POLLIN)
			ev |= MYSQL_WAIT_READ;
		if (pfd[0].revents & POLLOUT)
			ev |= MYSQL_WAIT_WRITE;
		if (pfd[0].revents & POLLPRI)
			ev |= MYSQL_WAIT_EXCEPT;
		if (pfd[0].revents & (POLLERR | POLLHUP | POLLNVAL))
			ev |= status & (MYSQL_WAIT_READ | MYSQL_WAIT_WRITE);
		return ev;
	}
}

/* TiDB's backoff: (1.5^n + rand) x 100 ms, capped. */
double
backoff_ms(unsigned int attempt)
{
	double	ms;

	ms = (pow(1.5, attempt) + (double)random() / RAND_MAX) * 100.0;
	return ms > BACKOFF_CAP_MS ? BACKOFF_CAP_MS : ms;
}

/* Wait ms milliseconds, or less if Ctrl-C comes (then -1). */
int
wait_ms(struct db *db, double ms)
{
	double	end = now_seconds() + ms / 1000.0, left;

	if (intr_pending() > 0)
		return -1;
	while ((left = end - now_seconds()) > 0) {
		if (intr_poll(-1, 0, (int)ceil(left * 1000)) == -1) {
			db->intr_seen = intr_pending();
			return -1;
		}
	}
	return 0;
}

/*
 * Before attempt + 2 of a statement or of a whole transaction: say so,
 * naming the error of the attempt that failed, count it, and wait.
 * Ctrl-C during the wait gives up.
 */
int
db_backoff(struct db *db, unsigned int attempt, unsigned int err,
    char **cause)
{
	db->retries++;
	retry_notice(db, err, attempt);
	if (wait_ms(db, backoff_ms(attempt)) != 0) {
		xasprintf(cause, "cancelled while waiting to retry; nothing "
		    "was changed");
		return -1;
	}
	return 0;
}

/* Ctrl-C came during this command. */
int
db_interrupted(const struct db *db)
{
	(void)db;
	return intr_pending() > 0;
}

void
db_want_cancel(struct db *db)
{
	db->want_conn_id = 1;
}

/*
 * Each wait of the next command may last this long (seconds), whatever
 * read_timeout says; 0 goes back to read_timeout. For a completion's
 * query, which the prompt must not wait on.
 */
void
db_wait_limit(struct db *db, double seconds)
{
	db->wait_limit = seconds;
}

/*
 * A new command: a Ctrl-C that came before it is not for it, and a
 * connection given up on in the last one is made again when needed.
 */
void
db_command_begin(struct db *db)
{
	intr_reset();
	db->intr_seen = 0;
	if (db->conn == CONN_CANCELLED || db->conn == CONN_HUNG)
		conn_to(db, CONN_NONE);
}
