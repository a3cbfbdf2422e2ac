/*
 * The transactions: the user's begin, commit and rollback, a command's
 * own, and a load's (autocommit off, and on again after). Whether the
 * server still has one is read in the run path (db.c); here they begin
 * and end.
 */
#include "config.h"

#include "db-private.h"


/*
 * After the commit or rollback of a pipelined load: autocommit on again.
 * A session that stayed with it off would keep nothing of the commands
 * after, so if the server cannot be told, the connection goes, and the
 * next command makes a new one (autocommit on, as every new one is).
 */
void
autocommit_back(struct db *db)
{
	char	*why = NULL;

	if (db->my != NULL &&
	    (run_simple(db, ST_AUTOCOMMIT_ON, &why) != DB_OK ||
	    (db->my != NULL &&
	    !(db->my->server_status & SERVER_STATUS_AUTOCOMMIT))))
		drop_connection(db);
	free(why);
}

/* A transaction ended as asked: the session is in autocommit again. */
void
txn_ended(struct db *db)
{
	int	load = db->txn == TX_LOAD;

	txn_to(db, TX_NONE);
	if (load)
		autocommit_back(db);
}

/* A transaction begins: the user's (never retried) or a command's own. */
static int
begin(struct db *db, int user, char **cause)
{
	if (in_txn(db)) {
		xasprintf(cause, "a transaction is already open");
		return DB_FAIL;
	}
	if (!user && db->txn == TX_USER_GONE) {
		xasprintf(cause, "refused: %s (or say rollback)", GONE_WORDS);
		return DB_FAIL;
	}
	if (run_simple(db, ST_BEGIN, cause) != DB_OK)
		return DB_FAIL;
	txn_to(db, user ? TX_USER : TX_OURS);
	return DB_OK;
}

/* The user's begin. */
int
db_begin(struct db *db, char **cause)
{
	return begin(db, 1, cause);
}

/* A command's own transaction (trade, a load that waits for each batch). */
int
db_begin_ours(struct db *db, char **cause)
{
	return begin(db, 0, cause);
}

/*
 * TiDB ended the transaction for its age (8229, ErrLockExpire): it is
 * gone, and the message says all there is to say; beginning again is no
 * retry of it. why is taken.
 */
static int
txn_too_old(struct db *db, char *why, char **cause)
{
	struct call	 c = { .id = ST_ROLLBACK, .rows = 1 };
	char		*ignored = NULL;

	if (db->my != NULL && run_once(db, &c, &ignored) != 0)
		free(ignored);
	txn_to(db, TX_USER_GONE);
	db->err = ER_TXN_TOO_OLD;
	*cause = why;
	return DB_FAIL;
}

/*
 * A commit the server refuses ends the user's transaction all the same
 * (on a cluster a conflict is found at COMMIT): nothing of it is kept, and
 * that is what the user is told. Ours is rolled back by the caller.
 */
int
db_commit(struct db *db, char **cause)
{
	int	 rc;
	char	*why;

	if (db->txn == TX_USER_GONE) {
		xasprintf(cause, "nothing to commit: %s", GONE_WORDS);
		return DB_FAIL;
	}
	if (!in_txn(db)) {
		xasprintf(cause, "no transaction is open");
		return DB_FAIL;
	}
	if (db->txn == TX_LOAD) {
		/*
		 * A load's commit, with SET autocommit = 1 right behind it:
		 * one round trip for both. A COMMIT that fails has rolled the
		 * transaction back (MariaDB and MySQL in the commit, TiDB ends
		 * it), so the SET only turns autocommit on; the caller's
		 * rollback finds nothing left. A session the server does not
		 * say is in autocommit again is dropped, as in
		 * autocommit_back.
		 */
		struct call	c = { .id = ST_COMMIT, .rows = 1,
				      .then = ST_AUTOCOMMIT_ON };

		if ((rc = run(db, &c, &why)) != DB_OK)
			*cause = why;
		if (rc == DB_OK) {
			txn_to(db, TX_NONE);
			if (db->my != NULL &&
			    !(db->my->server_status & SERVER_STATUS_AUTOCOMMIT))
				drop_connection(db);
		} else if (rc != DB_FAIL && db->txn != TX_NONE)
			txn_ended(db);
		return rc;
	}
	rc = run_simple(db, ST_COMMIT, &why);
	if (rc == DB_FAIL && db->txn == TX_USER && db->err == ER_TXN_TOO_OLD)
		return txn_too_old(db, why, cause);
	if (rc == DB_FAIL && db->txn == TX_USER)
		return txn_gone(db, why, cause);
	if (rc != DB_OK)
		*cause = why;
	if (rc != DB_FAIL && in_txn(db))
		txn_ended(db);
	return rc;
}

int
db_rollback(struct db *db, char **cause)
{
	unsigned int	 err = db->err;
	int		 ours_lost = db->ours_lost;
	char		*why = NULL;
	int		 rc = DB_OK;

	if (db->txn == TX_NONE) {
		if (cause != NULL)
			xasprintf(cause, "no transaction is open");
		return DB_FAIL;
	}
	/* A transaction the server ended needs no word to it. */
	if (db->txn != TX_USER_GONE && db->my != NULL)
		rc = run_simple(db, ST_ROLLBACK, &why);
	if (db->txn != TX_NONE)
		txn_ended(db);
	/* Cleaning up after a failure keeps that failure for the caller. */
	if (rc == DB_OK) {
		db->err = err;
		db->ours_lost = ours_lost;
	}
	if (cause != NULL)
		*cause = why;
	else
		free(why);
	return rc;
}
