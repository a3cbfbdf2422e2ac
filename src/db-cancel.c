/*
 * Ctrl-C and waiting: cancelling what runs on the server, and the waits
 * between attempts.
 */
#include "config.h"

#include "db-private.h"


/* TiDB's backoff: (1.5^n + rand) x 100 ms, capped. */
double
backoff_ms(unsigned int attempt)
{
	double	ms;

	ms = (pow(1.5, attempt) + (double)random() / RAND_MAX) * 100.0;
	return ms > BACKOFF_CAP_MS ? BACKOFF_CAP_MS : ms;
}

/*
 * Wait ms milliseconds, or less if Ctrl-C comes: the watcher thread finds
 * CANCEL_WAIT, has nothing to kill on the server and only marks us
 * cancelled. The wait goes in short slices so that the mark is seen soon,
 * and so that a signal that interrupts nanosleep before the watcher has
 * run (or any other signal) only ends a slice.
 */
int
wait_ms(struct db *db, double ms)
{
	struct timespec	ts;
	double		end, left;

	if (db->interrupted)
		return -1;
	end = now_seconds() + ms / 1000.0;
	db->cancelled = 0;
	db->cancellable = CANCEL_WAIT;
	while (!db->cancelled && (left = end - now_seconds()) > 0) {
		if (left > 0.05)
			left = 0.05;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(left * 1e9);
		(void)nanosleep(&ts, NULL);
	}
	db->cancellable = CANCEL_NONE;
	return db->cancelled ? -1 : 0;
}

/*
 * Before attempt + 2 of a statement or of a whole transaction: say so,
 * count it, and wait. Ctrl-C during the wait gives up.
 */
int
db_backoff(struct db *db, unsigned int attempt, char **cause)
{
	db->retries++;
	db_notice(db, "server error %u, retrying (attempt %u of %u)", db->err,
	    attempt + 2, db->s->retries);
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
	return db->interrupted;
}

void
learn_conn_id(struct db *db)
{
	struct call	 c = { .id = ST_CONNECTION_ID, .rows = 1, .cb = got_id };
	unsigned long long id = 0;
	char		*why;

	c.arg = &id;
	if (!db->want_conn_id || db->conn_id != 0 || db->my == NULL)
		return;
	if (run_once(db, &c, &why) != 0) {
		free(why);
		db->err = 0;
		return;
	}
	db->conn_id = id;
}

void
db_want_cancel(struct db *db)
{
	db->want_conn_id = 1;
}

/* A new command: a Ctrl-C that came before it is not for it. */
void
db_cancel_reset(struct db *db)
{
	db->interrupted = 0;
	db->cut = 0;
}

/*
 * Give up on the running statement: cut the socket under it, so that the
 * blocked read returns at once, whatever the server does. The statement
 * fails as a lost connection (a write in flight may or may not have been
 * applied), and the next command connects again.
 */
void
db_abandon(struct db *db)
{
	MYSQL	*my = db->my;

	if (my == NULL || db->cancellable != CANCEL_QUERY)
		return;
	db->abandoned = 1;
	(void)shutdown((int)mysql_get_socket(my), SHUT_RDWR);
}

/*
 * Called from the signal watcher thread: stop the running statement with
 * KILL QUERY over a second connection, which gets short timeouts of its
 * own; the session itself goes on. When the server does not answer either
 * (it hangs), the statement is abandoned: one Ctrl-C always gives the
 * prompt back within a couple of seconds.
 */

/*
 * One KILL over the second connection: 1 when the server acted on it, 0
 * when it answered with a warning instead, -1 on an error. TiDB answers
 * a KILL it will not act on with OK and warning 1105 (pkg/executor/
 * simple.go, executeKillStmt): a plain KILL without Global Kill (before
 * v6.1, or enable-global-kill off), and any KILL of a 64-bit id cut to
 * 32 bits.
 */
static int
kill_once(struct db *db, MYSQL *my, const char *how, int connection,
    unsigned long long id)
{
	char	sql[80];

	snprintf(sql, sizeof sql, "KILL %s%s %llu", how, connection ?
	    "CONNECTION" : "QUERY", id);
	if (mysql_real_query(my, sql, strlen(sql)) != 0) {
		db_notice(db, "cannot cancel: %s (%u)", mysql_error(my),
		    mysql_errno(my));
		return -1;
	}
	return mysql_warning_count(my) == 0 ? 1 : 0;
}

/*
 * KILL QUERY over a second connection: the statement stops, we stay. With
 * connection set, KILL CONNECTION: the statements queued behind it go
 * too, and the transaction with them. The id is CONNECTION_ID(), read on
 * the connection before the statement (learn_conn_id): on TiDB it has 64
 * bits and the handshake's 32 name no connection, so without it nothing
 * is killed there and the caller gives up on the connection. An OK
 * with a warning killed nothing: KILL TIDB is tried, and only its clean
 * OK counts.
 */
int
kill_query(struct db *db, int connection)
{
	unsigned long long id = db->conn_id;
	MYSQL		*my;
	char		*cause;
	int		 killed;

	/*
	 * Not read (a script, where Ctrl-C does not ask for it, stopping
	 * rows it no longer wants): MariaDB's and MySQL's handshake carry the
	 * whole id, TiDB's only its low 32 bits, which KILL refuses.
	 */
	if (id == 0 && !db->tidb)
		id = db->thread_id;
	if (id == 0) {
		db_notice(db, "cannot cancel: the connection's id was not read");
		return 0;
	}
	if (connect_one(db, db->cur, CANCEL_TIMEOUT, CANCEL_TIMEOUT, &my,
	    &cause) != 0) {
		db_notice(db, "cannot cancel: %s", cause);
		free(cause);
		return 0;
	}
	if ((killed = kill_once(db, my, "", connection, id)) == 0 &&
	    (killed = kill_once(db, my, "TIDB ", connection, id)) == 0)
		db_notice(db, "cannot cancel: the server answered KILL with a "
		    "warning and stopped nothing");
	mysql_close(my);
	return killed > 0;
}

void
db_cancel(struct db *db)
{
	unsigned long	 gen = db->executions;
	double		 end;
	int		 killed;

	db->interrupted = 1;
	if (db->cancellable == CANCEL_NONE)
		return;
	db->cancelled = 1;
	if (db->cancellable == CANCEL_WAIT)
		return;		/* nothing runs on the server */
	mysql_thread_init();
	killed = kill_query(db, 0);
	mysql_thread_end();
	end = now_seconds() + (killed ? CANCEL_GRACE_SECONDS : 0);
	while (db->cancellable == CANCEL_QUERY && db->executions == gen &&
	    now_seconds() < end)
		(void)poll(NULL, 0, 20);
	if (db->cancellable == CANCEL_QUERY && db->executions == gen)
		db_abandon(db);
}
