/*
 * One running shell: what every command sees, and the upper layers that
 * drive it (line sources, then commands, then the session itself).
 */
#ifndef SESSION_H
#define SESSION_H

#include "tidbplay.h"

struct out;

struct session {
	struct settings	*s;
	struct db	*db;
	struct out	*out;
	const char	*source;	/* for FILE:LINE: messages */
	unsigned long	 line;
	const char	*command;	/* the command running, for notices */
	int		 interactive;	/* readline at a terminal */
	int		 force;
	int		 quiet;
	int		 timing;
	int		 progress;	/* stderr is a terminal */
	int		 quit;
	int		 failed;	/* some command failed */
	int		 lost;		/* no server left: a script stops */
	/*
	 * A yes/no question, installed by the line source: the terminal
	 * asks; a script has no one to ask (NULL means yes).
	 */
	int		(*confirm)(const char *);
	/*
	 * The source command: a script's lines run here, installed by the
	 * program (script.c's reader lives above the commands).
	 */
	int		(*run_file)(struct session *, const char *);
	/*
	 * Standard input, when the line source reads its commands from it:
	 * import - reads its data there, after the command (NULL: standard
	 * input is nobody's).
	 */
	struct input	*input;
};

/* session.c */
void	 session_init(struct session *, struct settings *, struct out *);
void	 session_error(struct session *, const char *, ...)
	     __attribute__((format(printf, 2, 3)));
void	 session_note(struct session *, const char *, ...)
	     __attribute__((format(printf, 2, 3)));
int	 session_human(const struct session *);
int	 session_failed(struct session *, int, char *, const char *,
	     const char *);
void	 session_show_now(struct session *, const char *);
int	 session_confirm(struct session *, const char *);
void	 session_notice(void *, const char *);

/* command.c */
#define MAX_ARGS	8

struct words {
	char		*argv[MAX_ARGS + 1];
	int		 argc;
};

struct command;

enum arg_kind {
	A_NONE,
	A_NAME,
	A_INT,
	A_DELTA,
	A_COUNT,
	A_PREFIX,
	A_FILE,
	A_OUTFILE,
	A_FORMAT,
	A_ONOFF,
	A_COLUMN,
	A_COMMAND,
	A_PAGER		/* on, off or a command */
};

int	 split_line(const char *, size_t, struct words **, size_t *, char **);
void	 free_words(struct words *, size_t);
int	 command_check(const struct words *, const struct command **,
	     char **);
int	 command_add_row(const char *, size_t, struct player *);
int	 run_line(struct session *, const char *, size_t);
int	 command_results_lost(struct session *, const char *);
void	 command_added(struct session *, const char *, unsigned long long);

/* session.c: what the commands have in common */
struct field;
long long session_num(const char *);
void	 session_report(struct session *, const struct field *, int,
	     const char *, ...) __attribute__((format(printf, 4, 5)));
const char *plural(long long);
int	 session_rows_done(struct session *, int, char *);

/* cmd-data.c: the commands on the players */
int	 cmd_add(struct session *, char **, int);
int	 cmd_show(struct session *, char **, int);
int	 cmd_list(struct session *, char **, int);
int	 cmd_find(struct session *, char **, int);
int	 cmd_top(struct session *, char **, int);
int	 cmd_count(struct session *, char **, int);
int	 cmd_set(struct session *, char **, int);
int	 cmd_rename(struct session *, char **, int);
int	 cmd_del(struct session *, char **, int);
int	 cmd_trade(struct session *, char **, int);
int	 cmd_bulk(struct session *, char **, int);
int	 cmd_import(struct session *, char **, int);
int	 cmd_export(struct session *, char **, int);
const char *command_word(size_t);
const char *command_sub(const char *, size_t);
enum arg_kind command_arg_kind(const char *, const char *, int);

/* script.c */
int	 script_run(struct session *, int, const char *);
int	 execute_run(struct session *, const char *, const char *);
int	 script_source(struct session *, const char *);

/* repl.c */
int	 repl_run(struct session *);

/* pager.c: for repl.c */
void	 pager_line_begin(struct session *);
void	 pager_hold_off(void);
void	 pager_line_end(void);
void	 pager_kill(void);

#endif
