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

enum shape {
	RS_NONE,
	RS_PLAYER,
	RS_COUNT,
	RS_NAME
};

/* What Ctrl-C finds: nothing, a statement to kill, or a wait to cut short. */
enum cancel_state {
	CANCEL_NONE,
	CANCEL_QUERY,
	CANCEL_WAIT
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

extern const struct stmt_def stmt_defs[ST_COUNT_ALL];

int	check_shape(struct db *, char **);

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
	MYSQL_STMT		*stmt[ST_COUNT_ALL];
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
	unsigned long		 retries;
	unsigned long		 reconnects;
	unsigned long long	 conn_id;	/* CONNECTION_ID(), 0: unread */
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
	unsigned long		 thread_id;	/* the handshake's, 32 bits */
	int			 want_conn_id;	/* Ctrl-C may need it */
	enum txn_state		 user;		/* the user's transaction */
	int			 ours;		/* one of ours is open */
	int			 autocommit_off; /* ours: SET autocommit = 0 */
	struct pipe		 pipe;		/* unanswered statements */
	unsigned int		 err;		/* of the last failure */
	char			 sqlstate[6];
	char			 dup[256];	/* the last 1062's message */
	int			 rolled_back;	/* ours went with the
						   connection */
	int			 down;		/* no server could be reached */
	volatile enum cancel_state cancellable;
	volatile int		 cancelled;
	volatile int		 interrupted;	/* Ctrl-C in this command */
	volatile int		 abandoned;	/* the socket was cut */
	int			 hung;		/* no answer in read_timeout */
	int			 cut;		/* dropped for not answering:
						   no new one in this command */
	volatile unsigned long	 executions;	/* statements sent */
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
};

void db_notice(struct db *db, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int is_lost(unsigned int err);
int is_transient_connect(unsigned int err);
int ends_txn(unsigned int err, const char *sqlstate);
unsigned int read_error(struct db *db, MYSQL_STMT *st, char **cause);
int refuse_interrupted(struct db *db, enum stmt_id id, char **cause);
MYSQL_STMT * statement(struct db *db, const struct call *c, char **cause);
int execute(struct db *db, MYSQL_STMT *st, const struct call *c, char **cause);
int run_once(struct db *db, struct call *c, char **cause);
int txn_gone(struct db *db, char *why, char **cause);
int lost_under(struct db *db, const struct call *c, double t0, char *why, char **cause);
int run(struct db *db, struct call *c, char **cause);
int run_simple(struct db *db, enum stmt_id id, char **cause);
int connect_one(struct db *db, size_t i, unsigned int timeout, unsigned int read_timeout, MYSQL **out, char **cause);
void drop_connection(struct db *db);
int reconnect(struct db *db, char **cause);
int ensure_connected(struct db *db, const struct stmt_def *def, char **cause);
double backoff_ms(unsigned int attempt);
int wait_ms(struct db *db, double ms);
void learn_conn_id(struct db *db);
int kill_query(struct db *db, int connection);
int got_id(const struct player *pl, void *arg);

#endif
