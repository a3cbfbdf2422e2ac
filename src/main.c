/*
 * tidbplay: options, settings, the connection, the line source, and the
 * exit status.
 */
#include "config.h"

#include <sys/prctl.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>


#include "session.h"
#include "output.h"

enum {
	OPT_ENV = 256,
	OPT_CA,
	OPT_TLS,
	OPT_FORMAT,
	OPT_TABLE,
	OPT_READ_TIMEOUT,
	OPT_CONNECTION_LIFETIME,
	OPT_FORCE,
	OPT_NO_PAGER
};

static const struct option longopts[] = {
	{ "config",	required_argument,	NULL, 'c' },
	{ "env",	required_argument,	NULL, OPT_ENV },
	{ "host",	required_argument,	NULL, 'H' },
	{ "port",	required_argument,	NULL, 'P' },
	{ "user",	required_argument,	NULL, 'u' },
	{ "database",	required_argument,	NULL, 'D' },
	{ "ca",		required_argument,	NULL, OPT_CA },
	{ "tls",	required_argument,	NULL, OPT_TLS },
	{ "table",	required_argument,	NULL, OPT_TABLE },
	{ "read-timeout", required_argument,	NULL, OPT_READ_TIMEOUT },
	{ "connection-lifetime", required_argument, NULL,
	    OPT_CONNECTION_LIFETIME },
	{ "password",	optional_argument,	NULL, 'p' },
	{ "execute",	required_argument,	NULL, 'e' },
	{ "file",	required_argument,	NULL, 'f' },
	{ "format",	required_argument,	NULL, OPT_FORMAT },
	{ "force",	no_argument,		NULL, OPT_FORCE },
	{ "no-pager",	no_argument,		NULL, OPT_NO_PAGER },
	{ "quiet",	no_argument,		NULL, 'q' },
	{ "help",	no_argument,		NULL, 'h' },
	{ "version",	no_argument,		NULL, 'V' },
	{ NULL,		0,			NULL, 0 }
};

/* Options are applied last, over the files and the environment. */
struct optval {
	enum setting_key key;
	const char	*value;
	const char	*name;
};

/* The standard streams that were closed when tidbplay started: 1 << fd. */
static unsigned int	closed_at_start;

/*
 * Before anything opens a file (OpenSSH's sanitise_stdfd): a closed
 * standard stream is opened on /dev/null, so that the TLS socket never
 * becomes standard output and no result or message goes into the
 * connection; which ones were closed is remembered, so that results meant
 * for a closed standard output fail instead of vanishing. A reader of our
 * output that goes away makes writes fail with EPIPE, not kill us.
 */
static void
std_fds(void)
{
	int	fd;

	for (fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) == -1 && errno == EBADF)
			closed_at_start |= 1u << fd;
	}
	while ((fd = open("/dev/null", O_RDWR)) != -1 && fd < 3)
		;
	if (fd == -1) {
		if (closed_at_start != 0)
			_exit(EXIT_USAGE);	/* nowhere to say it */
	} else
		close(fd);
	signal(SIGPIPE, SIG_IGN);
}

/* --help and --version: the text is the result, and may fail to go out. */
static int
text_written(void)
{
	int	e = 0;

	if (closed_at_start & (1u << STDOUT_FILENO))
		e = EBADF;
	else if (fflush(stdout) != 0)
		e = errno;
	if (e == 0 || e == EPIPE)
		return 0;
	say("standard output: %s", strerror(e));
	return EXIT_FAILED;
}

static void
usage(FILE *f)
{
	fprintf(f,
"usage: tidbplay [options]\n"
"An interactive shell for the TiDB quickstart's player records.\n"
"\n"
"  -c, --config FILE    read settings from an INI file\n"
"      --env FILE       read the quickstart's .env file (default ./.env)\n"
"  -H, --host HOSTS     server host (127.0.0.1), or HOST[:PORT],... to try\n"
"  -P, --port PORT      server port (4000)\n"
"  -u, --user USER      user name (root)\n"
"  -p, --password       ask for the password (never given as an argument)\n"
"  -D, --database NAME  database (test)\n"
"      --ca FILE        CA certificate that signs the server's certificate\n"
"      --tls verify|off verify the server (default), or plaintext\n"
"      --table NAME     the players table (players)\n"
"      --read-timeout SECONDS\n"
"                       wait at most SECONDS for the server's reply; 0: no\n"
"                       limit (120 in scripts, none at a terminal)\n"
"      --connection-lifetime SECONDS\n"
"                       between commands, replace a connection older than\n"
"                       SECONDS (1500); 0: never\n"
"  -e, --execute CMDS   run CMDS (';' or newlines between them) and leave\n"
"  -f, --file SCRIPT    run the commands in SCRIPT (- stdin) and leave;\n"
"                       several -e and -f run in the order given\n"
"      --format FMT     table, vertical, tsv, csv or json\n"
"      --force          go on after a failed command\n"
"      --no-pager       never page results at a terminal\n"
"  -q, --quiet          no banner and no confirmation messages\n"
"  -h, --help           show this help and leave\n"
"  -V, --version        show the version and leave\n"
"\n"
"Exit status: 0 all went well, 1 a command failed, 2 usage or settings,\n"
"3 cannot connect or authenticate, or no server left to finish a script,\n"
"4 TLS verification failed.\n"
"Type 'help' in the shell for the commands; see tidbplay(1).\n");
}

static void
die_usage(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

static void
die_usage(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vdiag(1, "", fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s --help'.\n", progname);
	exit(EXIT_USAGE);
}

static void
die_config(char *cause) __attribute__((noreturn));

static void
die_config(char *cause)
{
	say("%s", cause);
	free(cause);
	exit(EXIT_USAGE);
}

/* The terminal as it was before the password prompt turned echo off. */
static struct termios	prompt_termios;
static int		prompt_fd = -1;

/* Ctrl-C at the password prompt: give the terminal its echo back. */
static void
prompt_interrupted(int sig)
{
	(void)sig;
	if (prompt_fd != -1)
		tcsetattr(prompt_fd, TCSAFLUSH, &prompt_termios);
	(void)!write(STDERR_FILENO, "\n", 1);
	_exit(130);
}

/* Ask for the password on the terminal, echo off. */
static char *
ask_password(const struct settings *s)
{
	struct termios	 old, quiet;
	struct sigaction sa, oldsa;
	FILE		*tty;
	char		*line = NULL;
	size_t		 size = 0;
	ssize_t		 len;
	int		 restore;

	if ((tty = fopen("/dev/tty", "r+")) == NULL)
		die_usage("-p needs a terminal to ask for the password; "
		    "use TIDB_PASSWORD or a settings file instead");
	/* No stdio copy of the password, and no realloc'd copies either. */
	setvbuf(tty, NULL, _IONBF, 0);
	size = 4096 + 2;
	line = xmalloc(size);
	/* Echo goes off before the question, so no answer is ever shown. */
	restore = tcgetattr(fileno(tty), &old) == 0;
	if (restore) {
		prompt_termios = old;
		prompt_fd = fileno(tty);
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = prompt_interrupted;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, &oldsa);
		sigaction(SIGTERM, &sa, NULL);
		quiet = old;
		quiet.c_lflag &= ~(ECHO | ECHONL);
		tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
	}
	/* Where the password will go, and who said so when not an option. */
	if (s->trust[K_HOST] < TRUST_OPTION)
		fprintf(tty, "Password for %s@%s (host from %s): ", s->user,
		    s->host, s->origin[K_HOST]);
	else
		fprintf(tty, "Password for %s@%s: ", s->user, s->host);
	fflush(tty);
	len = getline(&line, &size, tty);
	if (restore) {
		tcsetattr(fileno(tty), TCSAFLUSH, &old);
		prompt_fd = -1;
		sigaction(SIGINT, &oldsa, NULL);
		signal(SIGTERM, SIG_DFL);
	}
	fputc('\n', tty);
	fclose(tty);
	if (len < 0) {
		explicit_bzero(line, size);
		free(line);
		die_usage("no password given");
	}
	if (len > 0 && line[len - 1] == '\n')
		line[--len] = '\0';
	return line;
}

static void
load_settings(struct settings *s, const char *config, const char *envfile,
    const struct optval *opts, size_t nopts, int ask)
{
	const char	*xdg, *home;
	char		*path = NULL, *cause, *pw;
	size_t		 i;
	int		 rc;

	if (config != NULL) {
		if (settings_load_ini(s, config, TRUST_FILE, &cause) != 0)
			die_config(cause);
	} else {
		if ((xdg = getenv("XDG_CONFIG_HOME")) != NULL && *xdg == '/')
			xasprintf(&path, "%s/tidbplay/tidbplay.ini", xdg);
		else if ((home = getenv("HOME")) != NULL && *home != '\0')
			xasprintf(&path, "%s/.config/tidbplay/tidbplay.ini",
			    home);
		if (path != NULL && access(path, F_OK) == 0 &&
		    settings_load_ini(s, path, TRUST_FILE, &cause) != 0)
			die_config(cause);
		free(path);
	}
	if (envfile != NULL) {
		if (settings_load_dotenv(s, envfile, TRUST_FILE, &cause) != 0)
			die_config(cause);
	} else if (access("./.env", F_OK) == 0) {
		/* Found, not named: read only when safe to trust. */
		if ((rc = settings_load_dotenv(s, "./.env", TRUST_DOTENV,
		    &cause)) < 0)
			die_config(cause);
		if (rc > 0) {
			warning("%s", cause);
			free(cause);
		}
	}
	if (settings_load_environ(s, &cause) != 0)
		die_config(cause);
	for (i = 0; i < nopts; i++) {
		if (settings_set(s, opts[i].key, opts[i].value, opts[i].name,
		    TRUST_OPTION, &cause) != 0)
			die_usage("%s: %s", opts[i].name, cause);
	}
	if (settings_finish(s, ask, &cause) != 0)
		die_config(cause);
	if (ask) {
		pw = ask_password(s);
		if (settings_set(s, K_PASSWORD, pw, "the -p prompt",
		    TRUST_OPTION, &cause) != 0) {
			freezero_str(pw);
			die_config(cause);
		}
		freezero_str(pw);
	}
}

/* One -e or -f, run in the order given (as psql runs -c and -f). */
struct source {
	const char	*arg;		/* the commands, or the file's name */
	int		 file;		/* -f */
	int		 fd;		/* -f: opened before connecting */
	char		 name[24];	/* -e, or -e#N when there are several */
};

/* What the command line asks for, beside the settings. */
struct invocation {
	struct optval	 opts[32];
	size_t		 nopts;
	const char	*config;
	const char	*envfile;
	struct source	*sources;
	size_t		 nsources;
	int		 ask;
	int		 force;
	int		 quiet;
};

static void
add_source(struct invocation *inv, const char *arg, int file)
{
	struct source	*src;

	inv->sources = xreallocarray(inv->sources, inv->nsources + 1,
	    sizeof *inv->sources);
	src = &inv->sources[inv->nsources++];
	memset(src, 0, sizeof *src);
	src->arg = arg;
	src->file = file;
	src->fd = -1;
}

/* One option into inv; --help, --version and mistakes end here. */
static void
take_option(struct invocation *inv, int ch)
{
	struct optval	*o = &inv->opts[inv->nopts];

	if (inv->nopts == sizeof inv->opts / sizeof inv->opts[0])
		die_usage("too many options");
	switch (ch) {
	case 'c':
		inv->config = optarg;
		return;
	case OPT_ENV:
		inv->envfile = optarg;
		return;
	case 'H':
		*o = (struct optval){ K_HOST, optarg, "--host" };
		break;
	case 'P':
		*o = (struct optval){ K_PORT, optarg, "--port" };
		break;
	case 'u':
		*o = (struct optval){ K_USER, optarg, "--user" };
		break;
	case 'D':
		*o = (struct optval){ K_DATABASE, optarg, "--database" };
		break;
	case OPT_CA:
		*o = (struct optval){ K_CA, optarg, "--ca" };
		break;
	case OPT_TLS:
		*o = (struct optval){ K_TLS, optarg, "--tls" };
		break;
	case OPT_TABLE:
		*o = (struct optval){ K_TABLE, optarg, "--table" };
		break;
	case OPT_FORMAT:
		*o = (struct optval){ K_FORMAT, optarg, "--format" };
		break;
	case OPT_READ_TIMEOUT:
		*o = (struct optval){ K_READ_TIMEOUT, optarg,
		    "--read-timeout" };
		break;
	case OPT_CONNECTION_LIFETIME:
		*o = (struct optval){ K_CONNECTION_LIFETIME, optarg,
		    "--connection-lifetime" };
		break;
	case 'p':
		if (optarg != NULL)
			die_usage("the password is never taken on the command "
			    "line: -p asks for it; or use TIDB_PASSWORD or a "
			    "settings file");
		inv->ask = 1;
		return;
	case 'e':
		add_source(inv, optarg, 0);
		return;
	case 'f':
		add_source(inv, optarg, 1);
		return;
	case OPT_FORCE:
		inv->force = 1;
		return;
	case OPT_NO_PAGER:
		*o = (struct optval){ K_PAGER, "off", "--no-pager" };
		break;
	case 'q':
		inv->quiet = 1;
		return;
	case 'h':
		usage(stdout);
		exit(text_written());
	case 'V':
		printf("tidbplay %s (client library %s)\n", PACKAGE_VERSION,
		    db_client_version());
		exit(text_written());
	default:
		fprintf(stderr, "Try '%s --help'.\n", progname);
		exit(EXIT_USAGE);
	}
	inv->nopts++;
}

static void
parse_options(struct invocation *inv, int argc, char **argv)
{
	int	ch;

	memset(inv, 0, sizeof *inv);
	/* getopt names argv[0] in its errors: tidbplay, not a full path. */
	if (argc > 0)
		argv[0] = (char *)progname;
	while ((ch = getopt_long(argc, argv, "c:H:P:u:D:p::e:f:qhV", longopts,
	    NULL)) != -1)
		take_option(inv, ch);
	/* After -p, a stray word is most likely the password: never echo it. */
	if (optind < argc && inv->ask)
		die_usage("unexpected argument (not shown): -p takes no value; "
		    "it asks for the password");
	if (optind < argc)
		die_usage("unexpected argument '%s'", argv[optind]);
}

/*
 * Name the -e sources and open the -f files, before connecting: a file
 * that cannot be read is a usage error, and nothing has run yet.
 */
static int
open_sources(struct invocation *inv)
{
	struct source	*src;
	struct stat	 sb;
	size_t		 i, ne = 0, k = 0;

	for (i = 0; i < inv->nsources; i++)
		ne += !inv->sources[i].file;
	for (i = 0; i < inv->nsources; i++) {
		src = &inv->sources[i];
		if (!src->file) {
			if (ne > 1)
				snprintf(src->name, sizeof src->name, "-e#%zu",
				    ++k);
			else
				snprintf(src->name, sizeof src->name, "-e");
			continue;
		}
		if (strcmp(src->arg, "-") == 0) {
			src->fd = STDIN_FILENO;
			continue;
		}
		if ((src->fd = open(src->arg, O_RDONLY | O_CLOEXEC)) == -1 ||
		    fstat(src->fd, &sb) != 0 || S_ISDIR(sb.st_mode)) {
			say("%s: %s", src->arg, src->fd != -1 &&
			    S_ISDIR(sb.st_mode) ? strerror(EISDIR) :
			    strerror(errno));
			return -1;
		}
	}
	return 0;
}

static void
close_sources(struct invocation *inv)
{
	size_t	i;

	for (i = 0; i < inv->nsources; i++) {
		if (inv->sources[i].fd > STDIN_FILENO)
			close(inv->sources[i].fd);
	}
	free(inv->sources);
	inv->sources = NULL;
	inv->nsources = 0;
}

/*
 * Run the line sources the invocation picks, in order; the first failure
 * stops them all unless --force. The session keeps the result.
 */
static void
run_sources(struct session *se, const struct invocation *inv)
{
	const struct source	*src;
	size_t			 i;

	if (inv->nsources == 0) {
		if (se->interactive)
			repl_run(se);
		else
			script_run(se, STDIN_FILENO, "stdin");
		return;
	}
	for (i = 0; i < inv->nsources && !se->quit; i++) {
		if (se->failed && !se->force)
			break;
		src = &inv->sources[i];
		if (!src->file)
			execute_run(se, src->arg, src->name);
		else
			script_run(se, src->fd, src->fd == STDIN_FILENO ?
			    "stdin" : src->arg);
	}
}

/* Leaving: a transaction still open is rolled back, and said so. */
static void
leave(struct session *se)
{
	char	*cause;

	if (db_txn(se->db) == TXN_OPEN) {
		say("leaving with a transaction open: rolled back");
		if (db_rollback(se->db, &cause) != DB_OK) {
			say("%s", cause);
			free(cause);
		}
		se->failed = 1;
	}
	/* What is still buffered, and adds grouped after the last line. */
	out_flush(se->out);
	if (command_results_lost(se, NULL) != 0)
		se->failed = 1;
}

static void
process_init(void)
{
	/* A process that will hold a password leaves no core dump. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	setlocale(LC_CTYPE, "");
	if (strstr(setlocale(LC_CTYPE, NULL), "UTF-8") == NULL &&
	    strstr(setlocale(LC_CTYPE, NULL), "utf8") == NULL)
		setlocale(LC_CTYPE, "C.UTF-8");
	srandom((unsigned int)time(NULL) ^ (unsigned int)getpid());
}

int
main(int argc, char **argv)
{
	struct invocation	 inv;
	struct settings		 s;
	struct session		 se;
	char			*cause;
	int			 status, rc;

	std_fds();
	process_init();
	parse_options(&inv, argc, argv);
	settings_init(&s);
	load_settings(&s, inv.config, inv.envfile, inv.opts, inv.nopts,
	    inv.ask);
	if (open_sources(&inv) != 0) {
		close_sources(&inv);
		settings_free(&s);
		return EXIT_USAGE;
	}
	if (s.format == FMT_AUTO)
		s.format = isatty(1) ? FMT_TABLE : FMT_TSV;
	session_init(&se, &s, out_new(stdout, s.format));
	if (closed_at_start & (1u << STDOUT_FILENO))
		out_closed(se.out);
	se.force = inv.force;
	se.run_file = script_source;
	se.quiet = inv.quiet;
	se.interactive = inv.nsources == 0 && isatty(STDIN_FILENO);
	/* At a terminal Ctrl-C is the way out of a hung server. */
	if (se.interactive && strcmp(s.origin[K_READ_TIMEOUT], "default") == 0)
		s.read_timeout = 0;
	se.progress = isatty(2);
	if (!se.interactive)
		setvbuf(stdout, NULL, _IOFBF, 1 << 16);

	if ((se.db = db_open(&s, session_notice, &se, &status,
	    &cause)) != NULL && (rc = db_check_table(se.db, &cause)) != 0) {
		/*
		 * The table setting names a table that cannot serve; or the
		 * server did not say.
		 */
		status = rc == -1 ? EXIT_USAGE : EXIT_CONNECT;
		db_close(se.db);
		se.db = NULL;
	}
	if (se.db == NULL) {
		say("%s", cause);
		free(cause);
	} else {
		run_sources(&se, &inv);
		leave(&se);
		status = se.lost ? EXIT_CONNECT : se.failed ? EXIT_FAILED : 0;
		db_close(se.db);
	}
	close_sources(&inv);
	out_free(se.out);
	settings_free(&s);
	db_library_end();
	return status;
}
