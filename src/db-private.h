/*
 * What the files of the connection share: the state of one connection,
 * the statement table, and the functions they call of each other. Only
 * db*.c include it, and only they include mysql.h.
 */
#ifndef DB_PRIVATE_H
#define DB_PRIVATE_H
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mysql.h>
#include <errmsg.h>
#include <mysqld_error.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "tidbplay.h"


/*
 * A connection that has idled this long is pinged before it is used, in
 * case something between us and the server dropped it without a word;
 * otherwise a local look at the socket finds a closed one for free.
 */
#define IDLE_PING_SECONDS	240.0
#define BACKOFF_CAP_MS		3000.0
#define CANCEL_GRACE_SECONDS	1.0	/* after KILL QUERY, before abandoning */
#define COLLATION_MAX		64	/* information_schema's longest */
#define CANCEL_TIMEOUT		1	/* seconds, for the KILL connection */
/* The packet's own bytes, and the statement's header and id. */
#define PACKET_OVERHEAD	64
/* No server takes less than this in a packet (1024 is the least). */
#define PACKET_FLOOR	1024
/* One packet of the protocol; larger ones go in pieces, which we spare. */
#define PACKET_CAP	(16UL * 1024 * 1024 - 1)
#define GONE_WORDS	"the transaction was rolled back: nothing in it " \
			"was kept; start again with begin"
/*
 * TiDB's ErrLockExpire: a transaction older than max-txn-ttl (Serverless:
 * 30 minutes) cannot commit (pkg/errno/errname.go).
 */
#define ER_TXN_TOO_OLD		8229

/*
 * Run one call of the client library's non-blocking API to its end: start
 * it, and while it waits, wait in io_wait() and continue it with the
 * events that came (named ev in cont).
 */
#define ASYNC(db, my, kind, start, cont) do {				\
	int	async_status = (start);					\
	while (async_status != 0) {					\
		int	ev = io_wait((db), (my), async_status, (kind));	\
		async_status = (cont);					\
	}								\
} while (0)

/*
 * A call that waits on the server over the connection: the connection is
 * busy meanwhile (Ctrl-C and read_timeout may end the wait), idle after.
 */
#define ON_SERVER(db, start, cont) do {					\
	ASYNC((db), (db)->my, WAIT_SERVER, (busy_begin(db), (start)),	\
	    (cont));							\
	busy_end(db);							\
} while (0)

enum shape {
	RS_NONE,
	RS_PLAYER,
	RS_COUNT,
	RS_NAME,
	RS_FIELDS	/* ours: rows of text, to call.fields */
};

/*
 * The connection, as one state; conn_to() is its only writer, and says
 * which changes are allowed.
 *
 *   NONE        no connection: the next statement makes one
 *   CONNECTING  a connect to one host of the list is under way
 *   IDLE        connected, nothing asked of the server
 *   BUSY        a statement, a fetch or a ping waits on the server
 *   CANCELLING  Ctrl-C came while BUSY: KILL was sent, and the server is
 *               given a moment to end the statement
 *   CANCELLED   given up on Ctrl-C: the server did not answer, so the
 *               connection was dropped; no new one in this command
 *   HUNG        given up: no answer within read_timeout; the same
 *   DOWN        no host of the list could be reached
 *
 * CANCELLED and HUNG become NONE when the next command begins.
 */
enum conn_state {
	CONN_NONE,
	CONN_CONNECTING,
	CONN_IDLE,
	CONN_BUSY,
	CONN_CANCELLING,
	CONN_CANCELLED,
	CONN_HUNG,
	CONN_DOWN
};

/*
 * The transaction, as the server has it; txn_to() is its only writer.
 *
 *   NONE       autocommit
 *   USER       the user's begin, and the server still has it
 *   USER_GONE  the user's, ended by the server (or with the connection):
 *              every change is refused until rollback or begin
 *   OURS       a command's own (trade, import), which it commits or rolls
 *              back itself
 *   LOAD       a pipelined load's own, begun by SET autocommit = 0:
 *              autocommit must be turned on again when it ends
 */
enum txn {
	TX_NONE,
	TX_USER,
	TX_USER_GONE,
	TX_OURS,
	TX_LOAD
};

/* Why a wait on the server was given up. */
enum gave_up {
	GAVE_UP_NOT,
	GAVE_UP_CANCEL,		/* Ctrl-C, and the server did not stop */
	GAVE_UP_TIMEOUT		/* read_timeout or connect_timeout passed */
};

/* What a wait is for: a connect has one deadline, a statement one per read. */
enum wait_kind {
	WAIT_CONNECT,
	WAIT_SERVER
};

/* A player's columns, in the order bind_result() takes them. */
#define SELECT_PLAYERS	"SELECT id, name, coins, goods FROM `%s` "


struct stmt_def {
	const char	*sql;		/* %s is the table; NULL: built per
					   number of rows */
	unsigned int	 nparams;	/* per row for the multi-row ones */
	enum shape	 shape;
	int		 rerun;		/* safe to run again after a reconnect */
	int		 change;	/* changes the table */
	/*
	 * Ours, not a command's, with no parameters and at most a number to
	 * return: sent as a plain query, which spares the round trip of a
	 * prepare on a new connection.
	 */
	int		 text;
};

extern const struct stmt_def stmt_defs[NSTATEMENTS];


/* A multi-row statement, prepared for one number of rows. */
struct many_stmt {
	MYSQL_STMT	*stmt;
	unsigned int	 rows;
};

/*
 * The statements sent and not yet answered, oldest first: the batches of
 * a pipelined load (see db_insert_send).
 */
#define PIPE_MAX	64
struct pipe {
	MYSQL_STMT	*st[PIPE_MAX];
	unsigned int	 head;
	unsigned int	 n;
};

/* One server of the host list, with how it is reached. */
struct endpoint {
	char		*name;
	unsigned int	 port;
	int		 tls;		/* verified TLS; else plaintext */
};

struct db {
	const struct settings	*s;
	MYSQL			*my;
	MYSQL_STMT		*stmt[NSTATEMENTS];
	/* Two sizes each: the full batch, and the rest. */
	struct many_stmt	 insert_many[2];
	struct many_stmt	 get_many[2];
	struct endpoint		*hosts;
	size_t			 nhosts;
	size_t			 cur;		/* the host in use */
	char			*ca_desc;	/* what verifies the server */
	char			*ca_file;
	char			*ca_dir;
	double			 last_used;
	double			 born;		/* when the connection was made */
	int			 tidb;		/* the server says it is TiDB */
	int			 between;	/* no statement of this
						   command has run yet */
	unsigned long		 retries;
	unsigned long		 reconnects;
	unsigned long long	 conn_id;	/* CONNECTION_ID(), 0: unread */
	unsigned long		 thread_id;	/* the handshake's, 32 bits */
	/* The table's collation, for status; "": not read yet. */
	char			 collation[COLLATION_MAX + 1];
	/* What check_shape found at connect, for status. */
	char			*shape;
	unsigned long long	 max_packet;	/* the server's; 0: unread */
	/*
	 * The parameters of the multi-row statements, kept from one batch
	 * to the next: a batch has up to 65535, and fresh pages for every
	 * one cost the client more than the rest of an import.
	 */
	struct param		*params;
	size_t			 nparams;
	MYSQL_BIND		*binds;
	size_t			 nbinds;
	enum conn_state		 conn;		/* conn_to() */
	enum txn		 txn;		/* txn_to() */
	enum gave_up		 gave_up;	/* of the last wait */
	double			 connect_deadline;
	double			 wait_limit;	/* seconds per wait; 0: the
						   setting's */
	int			 want_conn_id;	/* Ctrl-C may need it */
	unsigned int		 intr_seen;	/* Ctrl-C acted on, this command */
	struct pipe		 pipe;		/* unanswered statements */
	/* The last failure, for the caller's rules. */
	unsigned int		 err;
	char			 sqlstate[6];
	char			 dup[256];	/* the last 1062's message */
	int			 ours_lost;	/* ours went with the connection,
						   which came back */
	/* KILL over a second connection (db-connect.c), for io_wait. */
	int			(*kill)(struct db *, int);
	notice_cb		 notice;	/* db.c prints nothing itself */
	void			*notice_arg;
};


/* One statement of the run path, and what came of it. */
struct call {
	enum stmt_id		 id;
	const struct param	*p;
	unsigned int		 rows;		/* of a multi-row statement */
	row_cb			 cb;
	void			*arg;
	unsigned long long	 affected;
	unsigned long long	 insert_id;
	unsigned long		 emitted;	/* rows handed to cb */
	/*
	 * A text statement sent right behind this one (a text one too),
	 * before its answer is read: two statements for one round trip. 0:
	 * none (ST_INSERT is never text).
	 */
	enum stmt_id		 then;
	/* For RS_FIELDS: each row's fields, as text. */
	int			(*fields)(char **, unsigned int, void *);
};

void	 db_notice(struct db *, const char *, ...)
	     __attribute__((format(printf, 2, 3)));

/* db-state.c: the two states, notices, what errors mean */
void	 conn_to(struct db *, enum conn_state);
void	 txn_to(struct db *, enum txn);
void	 txn_lost(struct db *);
void	 busy_begin(struct db *);
void	 busy_end(struct db *);
int	 is_lost(unsigned int);
void	 retry_notice(struct db *, unsigned int, unsigned int);
int	 is_transient_connect(unsigned int);
int	 is_retryable(unsigned int);
int	 ends_txn(unsigned int, const char *);
void	 set_max_packet(struct db *, unsigned long long);
unsigned int read_error(struct db *, MYSQL_STMT *, char **);

/* db-wait.c: the one wait, and the waits between attempts */
int	 io_wait(struct db *, MYSQL *, int, enum wait_kind);
double	 backoff_ms(unsigned int);
int	 wait_ms(struct db *, double);

/* db-connect.c: reaching the server */
void	 drop_connection(struct db *);
int	 reconnect(struct db *, const char *, char **);
int	 kill_query(struct db *, int);
int	 renew_old(struct db *, char **);

/* db.c: the statements and the run path */
int	 refuse_interrupted(struct db *, enum stmt_id, char **);
MYSQL_STMT *statement(struct db *, const struct call *, char **);
int	 execute(struct db *, MYSQL_STMT *, const struct call *, char **);
int	 run_text(struct db *, struct call *, char **);
int	 run_once(struct db *, struct call *, char **);
int	 txn_gone(struct db *, char *, char **);
int	 gave_up_on(struct db *, char **);
int	 went(const struct db *);
int	 lost(struct db *, const struct call *, char *, char **);
int	 run(struct db *, struct call *, char **);
int	 run_simple(struct db *, enum stmt_id, char **);
int	 in_txn(const struct db *);
void	 autocommit_back(struct db *);
void	 txn_ended(struct db *);
int	 ensure_connected(struct db *, const struct stmt_def *, char **);
void	 learn_conn_id(struct db *);
int	 got_id(const struct player *, void *);

#endif
