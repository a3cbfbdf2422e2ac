/*
 * tidbplay - an interactive shell for the player records of the TiDB
 * quickstart.
 *
 * This program is free software: you can redistribute it and/or modify it
 * under the terms of the GNU General Public License as published by the Free
 * Software Foundation, either version 3 of the License, or (at your option)
 * any later version.
 */
#ifndef TIDBPLAY_H
#define TIDBPLAY_H

#include <sys/types.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#define NAME_MAX_CHARS	32
#define NAME_MAX_BYTES	(NAME_MAX_CHARS * 4)
#define INT_LIMIT	2147483647LL
#define TABLE_MAX	64
/* Rows of three in one prepared statement: the protocol's 65535 '?'s. */
#define BATCH_ROWS_MAX	(65535 / 3)

/* Exit statuses, documented in tidbplay(1). */
#define EXIT_FAILED	1	/* a command failed */
#define EXIT_USAGE	2	/* usage or configuration error */
#define EXIT_CONNECT	3	/* could not connect or authenticate, or
				   no server left for the rest of a script */
#define EXIT_TLS	4	/* TLS verification failed */

enum tls_mode {
	TLS_VERIFY,
	TLS_OFF
};

enum format {
	FMT_AUTO = -1,
	FMT_TABLE,
	FMT_VERTICAL,
	FMT_TSV,
	FMT_CSV,
	FMT_JSON
};

/* Every setting, indexing settings.origin[]. */
enum setting_key {
	K_HOST,
	K_PORT,
	K_USER,
	K_PASSWORD,
	K_DATABASE,
	K_CA,
	K_TLS,
	K_CONNECT_TIMEOUT,
	K_READ_TIMEOUT,
	K_CONNECTION_LIFETIME,
	K_TABLE,
	K_FORMAT,
	K_HISTORY,
	K_TIMING,
	K_RETRIES,
	K_BATCH,
	K_PAGER,
	K_PROMPT,
	K_COUNT
};

/*
 * How far a source of settings is trusted, lowest first: a password goes
 * only to a host, port and user named by a source at least as trusted.
 */
enum trust {
	TRUST_DOTENV,		/* ./.env, read without being named */
	TRUST_FILE,		/* -c FILE, --env FILE, the INI in
				   $XDG_CONFIG_HOME */
	TRUST_ENVIRON,		/* the environment */
	TRUST_OPTION,		/* the command line and the -p prompt */
	TRUST_DEFAULT		/* built in */
};

#define HOSTS_MAX		16	/* entries in the host list */
#define READ_TIMEOUT_DEFAULT	120	/* seconds; TiDB waits 50 for a lock */

/* One entry of the host list. */
struct host {
	char		*name;		/* a name, or an address without [] */
	unsigned int	 port;		/* 0 until settings_finish(): the
					   port setting */
};

struct settings {
	char		*host;
	unsigned int	 port;
	char		*user;
	char		*password;
	char		*database;
	char		*ca;		/* NULL or "": the system store */
	enum tls_mode	 tls;
	unsigned int	 connect_timeout;
	unsigned int	 read_timeout;	/* seconds; 0: wait for ever */
	unsigned int	 connection_lifetime; /* seconds; 0: for ever */
	char		*table;
	enum format	 format;
	char		*history;	/* NULL: the default place */
	int		 timing;
	unsigned int	 retries;
	unsigned int	 batch;
	char		*pager;		/* "on", "off" or a command */
	char		*prompt;	/* NULL: the built-in prompt; else
					   with \h \d \u \T escapes */

	/*
	 * The host setting as a list, tried in order; host and port are
	 * those of the first entry once settings_finish() has run.
	 */
	struct host	*hosts;
	size_t		 nhosts;

	/* Where each value came from ("default", "FILE:LINE", ...). */
	char		*origin[K_COUNT];
	enum trust	 trust[K_COUNT];
};

/* One row of the players table (or a count, or a name). */
struct player {
	long long	 id;
	long long	 coins;
	long long	 goods;
	char		 name[NAME_MAX_BYTES + 1];
	unsigned long	 namelen;
	char		 name_null;
	char		 coins_null;
	char		 goods_null;
};

/* The prepared statements, each prepared once per connection. */
enum stmt_id {
	ST_INSERT,
	ST_INSERT_MANY,		/* rows of ST_INSERT, in one statement */
	ST_GET,
	ST_GET_MANY,		/* players by name, many at once */
	ST_GET_ID,
	ST_LOCK_PAIR,
	ST_SET_COINS,
	ST_SET_GOODS,
	ST_ADD_COINS,
	ST_ADD_GOODS,
	ST_DELETE,
	ST_COUNT,
	ST_LIST,
	ST_LIST_ALL,
	ST_FIND,
	ST_TOP_COINS,
	ST_TOP_GOODS,
	ST_RENAME,
	ST_NAMES,
	ST_TRADE,
	ST_CONNECTION_ID,
	ST_COLLATION,		/* the table's, for status */
	ST_SHAPE,		/* the table's columns and unique keys */
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_MAX_PACKET,		/* the server's max_allowed_packet */
	ST_SAVEPOINT,		/* before a load inside the user's begin */
	ST_ROLLBACK_SAVEPOINT,	/* undoes that load alone */
	ST_AUTOCOMMIT_OFF,	/* a pipelined load's transaction */
	ST_AUTOCOMMIT_ON,	/* and after it */
	ST_CREATE,		/* the table, on first use */
	ST_TIDB_VERSION,	/* TiDB's, for status */
	ST_PROBE,		/* nothing: for the status flags of its OK */
	NSTATEMENTS
};

enum param_type {
	P_INT,
	P_STR,
	P_NULL
};

struct param {
	enum param_type	 type;
	long long	 i;
	const char	*s;
	size_t		 len;
};

#define DB_OK		0
#define DB_FAIL		(-1)	/* the command failed; nothing changed */
#define DB_UNKNOWN	(-2)	/* the connection went; a write's fate unknown */

/* The user's transaction, as the server has it. */
enum txn_state {
	TXN_NONE,	/* autocommit */
	TXN_OPEN,	/* begin was said and the server still has it */
	TXN_GONE	/* the server ended it; changes are refused until
			   rollback or begin */
};

/* Where db.c's notices go (a retry, a reconnect): the session's voice. */
typedef void (*notice_cb)(void *, const char *);

/*
 * A row callback returns 0 for the next row; anything else stops the
 * fetch: ROW_CANCELLED for Ctrl-C, another value when the rows cannot be
 * written or are refused. The rest of the rows are not read (a result
 * still coming is stopped on the server), the statement's result is freed,
 * and db_rows fails; for a value other than ROW_CANCELLED its cause only
 * says that the rows stopped, since the callback's owner knows why.
 */
typedef int (*row_cb)(const struct player *, void *);
#define ROW_CANCELLED	(-2)

struct db_info {
	const char	*host;
	unsigned int	 port;
	const char	*user;
	const char	*database;
	const char	*server;
	char		*tidb;		/* TiDB's own version, or NULL */
	const char	*tls_version;	/* NULL: not encrypted */
	const char	*cipher;
	const char	*ca;		/* what verified the server */
	const char	*collation;	/* the table's (the database's default
					   before it exists); NULL: unknown */
	const char	*shape;		/* what the check at connect found */
	unsigned long long thread_id;
	unsigned long	 retries;
	unsigned long	 reconnects;
};

/*
 * Bytes for the CSV reader, in chunks of any size: next hands out the next
 * one (1; 0 at the end; -1 on a read error, errno set), unread gives back
 * the last n bytes of the last one, which the reader did not use. line is
 * the line the next byte is on.
 */
struct input {
	int		(*next)(void *, const char **, size_t *);
	void		(*unread)(void *, size_t);
	void		*arg;
	unsigned long	 line;
	/* Asked while waiting on a terminal: stop (Ctrl-C). NULL: never. */
	int		(*cancelled)(void *);
	void		*cancel_arg;
};

struct db;

/* db.c */
struct db *db_open(const struct settings *, notice_cb, void *, int *,
	     char **);
void	 db_close(struct db *);
int	 db_exec(struct db *, enum stmt_id, const struct param *,
	     unsigned long long *, unsigned long long *, char **);
int	 db_rows(struct db *, enum stmt_id, const struct param *, row_cb,
	     void *, char **);
int	 db_insert_many(struct db *, const struct player *, unsigned int,
	     char **);
size_t	 db_row_bytes(const struct player *);
int	 db_batch_fits(struct db *, size_t, char **);
int	 db_can_pipeline(const struct db *);
int	 db_begin_pipelined(struct db *, char **);
int	 db_insert_ready(const struct db *, unsigned int);
int	 db_insert_send(struct db *, const struct player *, unsigned int,
	     char **);
int	 db_insert_answer(struct db *, char **);
void	 db_insert_discard(struct db *);
int	 db_lookup_names(struct db *, const struct player *, unsigned int,
	     row_cb, void *, char **);
int	 db_begin(struct db *, char **);
int	 db_begin_ours(struct db *, char **);
int	 db_commit(struct db *, char **);
int	 db_rollback(struct db *, char **);
int	 db_in_txn(const struct db *);
enum txn_state db_txn(const struct db *);
int	 db_is_tidb(const struct db *);
void	 db_between_commands(struct db *);
const char *db_host(const struct db *, unsigned int *);
int	 db_connected(const struct db *);
void	 db_want_cancel(struct db *);
void	 db_wait_limit(struct db *, double);
int	 db_last_retryable(const struct db *);
int	 db_last_too_large(const struct db *);
int	 db_interrupted(const struct db *);
int	 db_dup_value(const struct db *, char *, size_t);
int	 db_backoff(struct db *, unsigned int, unsigned int, char **);
unsigned int db_last_error(const struct db *);
unsigned int db_retries(const struct db *);
void	 db_info(struct db *, struct db_info *);
int	 db_check_table(struct db *, char **);
void	 db_command_begin(struct db *);
const char *db_client_version(void);
void	 db_library_end(void);

/* player.c */
typedef void (*progress_cb)(unsigned long long, unsigned long long, void *);

int	 player_add(struct db *, const char *, long long, long long,
	     unsigned long long *, char **);
int	 player_get(struct db *, const char *, struct player *, char **);
int	 player_set(struct db *, int, const char *, long long, int, char **);
int	 player_delete(struct db *, const char *, char **);
int	 player_rename(struct db *, const char *, const char *, char **);
int	 player_count(struct db *, long long *, char **);
int	 player_list(struct db *, long long, long long, row_cb, void *,
	     char **);
int	 player_find(struct db *, const char *, row_cb, void *, char **);
int	 player_top(struct db *, int, long long, row_cb, void *, char **);
int	 player_names(struct db *, const char *, unsigned int, row_cb, void *,
	     char **);
int	 player_trade(struct db *, const char *, const char *, long long,
	     long long, char **);
int	 player_ids(struct db *, struct player *, unsigned int, char **);

/* load.c */
int	 load_add_many(struct db *, struct player *, unsigned int,
	     char **);
int	 load_bulk(struct db *, long long, const char *, unsigned int,
	     progress_cb, void *, char **);
int	 load_import(struct db *, const char *, struct input *,
	     unsigned int, progress_cb, void *, unsigned long long *,
	     char **);

/* csv.c */
struct csv;
struct input *input_fd(int);
void	 input_free(struct input *);
int	 input_rewind(struct input *);
struct input *input_stdin(void);
struct csv *csv_open(struct input *, const char *, int);
void	 csv_close(struct csv *);
void	 csv_skip(struct csv *);
int	 csv_read(struct csv *, char **);
unsigned int csv_nfields(const struct csv *);
const char *csv_field(const struct csv *, unsigned int, size_t *);
unsigned long csv_line(const struct csv *);
int	 csv_header(struct csv *, int *, char **);
int	 csv_player(struct csv *, const int *, struct player *, char **);

/* settings.c */
void	 settings_init(struct settings *);
void	 settings_free(struct settings *);
int	 settings_set(struct settings *, enum setting_key, const char *,
	     const char *, enum trust, char **);
int	 settings_load_ini(struct settings *, const char *, enum trust,
	     char **);
int	 settings_load_dotenv(struct settings *, const char *, enum trust,
	     char **);
int	 settings_load_environ(struct settings *, char **);
int	 settings_finish(struct settings *, int, char **);
char	*settings_origins(const struct settings *);
int	 settings_key_lookup(const char *);
int	 settings_file_private(const char *, char **);

/* util.c */
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
int	 xasprintf(char **, const char *, ...)
	     __attribute__((format(printf, 2, 3)));
int	 xvasprintf(char **, const char *, va_list)
	     __attribute__((format(printf, 2, 0)));
void	 freezero_str(char *);
__attribute__((noreturn, format(printf, 1, 2)))
void	 fatalx(const char *, ...);
void	 diag_flush_hook(void (*)(void));
void	 vdiag(int, const char *, const char *, va_list)
	     __attribute__((format(printf, 3, 0)));
void	 say(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 warning(const char *, ...) __attribute__((format(printf, 1, 2)));
int	 parse_int_arg(const char *, long long, long long, long long *);
int	 check_name(const char *, size_t, char **);
size_t	 utf8_width(const char *, size_t);
size_t	 utf8_chars(const char *, size_t);
const char *shown(const char *);
size_t	 unsafe_char_at(const unsigned char *, size_t, size_t);
char	*host_port(const char *, unsigned int);
double	 now_seconds(void);
void	 intr_init(void);
void	 intr_raise(void);
int	 intr_fd(void);
unsigned int intr_pending(void);
void	 intr_drain(void);
void	 intr_reset(void);
int	 intr_poll(int, short, int);
int	 open_interruptible(const char *, int, mode_t);

extern const char *progname;

#endif
