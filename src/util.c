/*
 * Allocation that never returns NULL, and small checks shared by the
 * command parser, the CSV reader and the settings reader.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "tidbplay.h"

const char *progname = "tidbplay";

static void	(*before_diag)(void);
static void	 put_visible(const char *, FILE *);

/* What vdiag does first: output.c's flush, which keeps a write's errno. */
void
diag_flush_hook(void (*fn)(void))
{
	before_diag = fn;
}

/*
 * The one funnel for diagnostics, on stderr after the results already
 * written: "tidbplay: " when named, then LEAD ("warning: ", "FILE:LINE: ",
 * or nothing), then the message.
 */
void
vdiag(int named, const char *lead, const char *fmt, va_list ap)
{
	char	*msg;

	if (before_diag != NULL)
		before_diag();
	else
		fflush(stdout);

	if (named)
		fprintf(stderr, "%s: ", progname);
	put_visible(lead, stderr);
	/*
	 * A name another program stored, or a BOM typed into -e, is shown
	 * escaped, as results are at a terminal: "unknown command
	 * '\xef\xbb\xbfshow'" must not look like show.
	 */
	xvasprintf(&msg, fmt, ap);
	put_visible(msg, stderr);
	free(msg);
	fputc('\n', stderr);
}

/*
 * The length of the character at p[i] when it must not reach a terminal
 * as it is, else 0: a control character (C0, DEL, C1), or one that moves
 * or reorders text while showing nothing: the bidi controls (U+061C,
 * U+202A to U+202E, U+2066 to U+2069), the zero-width ones (U+200B to
 * U+200F, U+2060, U+FEFF) and the line and paragraph separators (U+2028,
 * U+2029), so that a name put in the table by another program never moves
 * the cursor, clears the screen or shows as something it is not.
 */
size_t
unsafe_char_at(const unsigned char *p, size_t i, size_t len)
{
	if (p[i] < 0x20 || p[i] == 0x7f)
		return 1;
	if (i + 1 < len && ((p[i] == 0xc2 && p[i + 1] >= 0x80 &&
	    p[i + 1] < 0xa0) || (p[i] == 0xd8 && p[i + 1] == 0x9c)))
		return 2;
	if (i + 2 >= len)
		return 0;
	if (p[i] == 0xe2 && p[i + 1] == 0x80 && ((p[i + 2] >= 0x8b &&
	    p[i + 2] <= 0x8f) || (p[i + 2] >= 0xa8 && p[i + 2] <= 0xae)))
		return 3;
	if (p[i] == 0xe2 && p[i + 1] == 0x81 && (p[i + 2] == 0xa0 ||
	    (p[i + 2] >= 0xa6 && p[i + 2] <= 0xa9)))
		return 3;
	if (p[i] == 0xef && p[i + 1] == 0xbb && p[i + 2] == 0xbf)
		return 3;
	return 0;
}

/* A diagnostic as a terminal should show it: see unsafe_char_at. */
static void
put_visible(const char *s, FILE *f)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i, n, len = strlen(s);

	for (i = 0; i < len; i++) {
		/* A message may span lines on purpose. */
		if (p[i] == '\n' || (n = unsafe_char_at(p, i, len)) == 0) {
			fputc(p[i], f);
			continue;
		}
		for (; n > 0; n--, i++)
			fprintf(f, "\\x%02x", p[i]);
		i--;
	}
}

void
say(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vdiag(1, "", fmt, ap);
	va_end(ap);
}

void
warning(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vdiag(1, "warning: ", fmt, ap);
	va_end(ap);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vdiag(1, "", fmt, ap);
	va_end(ap);
	exit(EXIT_USAGE);
}

void *
xmalloc(size_t size)
{
	void	*p;

	if (size == 0)
		size = 1;
	if ((p = malloc(size)) == NULL)
		fatalx("out of memory");
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void	*p;

	if (n == 0 || size == 0)
		n = size = 1;
	if ((p = calloc(n, size)) == NULL)
		fatalx("out of memory");
	return p;
}

void *
xrealloc(void *p, size_t size)
{
	if (size == 0)
		size = 1;
	if ((p = realloc(p, size)) == NULL)
		fatalx("out of memory");
	return p;
}

void *
xreallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		fatalx("out of memory");
	return xrealloc(p, n * size);
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t len)
{
	char	*p;

	p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

int
xvasprintf(char **ret, const char *fmt, va_list ap)
{
	int	 n;

	if ((n = vasprintf(ret, fmt, ap)) == -1)
		fatalx("out of memory");
	return n;
}

int
xasprintf(char **ret, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = xvasprintf(ret, fmt, ap);
	va_end(ap);
	return n;
}

/* Free a string that may hold a secret, wiping it first. */
void
freezero_str(char *s)
{
	if (s == NULL)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

/*
 * A decimal integer between lo and hi: digits only, with a sign only when lo
 * is negative. Returns 0, or -1 when malformed and -2 when out of range.
 */
int
parse_int_arg(const char *s, long long lo, long long hi, long long *out)
{
	const char	*p = s;
	long long	 v = 0;
	int		 neg = 0;

	if (*p == '+' || *p == '-') {
		if (lo >= 0)
			return -1;
		neg = (*p == '-');
		p++;
	}
	if (*p == '\0')
		return -1;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		if (v > (LLONG_MAX - 9) / 10) {
			v = LLONG_MAX;
			continue;
		}
		v = v * 10 + (*p - '0');
	}
	if (neg)
		v = -v;
	if (v < lo || v > hi)
		return -2;
	*out = v;
	return 0;
}

/*
 * Decode one UTF-8 sequence strictly (no overlongs, no surrogates, nothing
 * above U+10FFFF). Returns its length, or 0 when invalid.
 */
static size_t
utf8_decode(const unsigned char *s, size_t len, unsigned int *cp)
{
	unsigned int	 c, min;
	size_t		 n, i;

	c = s[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if ((c & 0xe0) == 0xc0) {
		n = 2; c &= 0x1f; min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		n = 3; c &= 0x0f; min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		n = 4; c &= 0x07; min = 0x10000;
	} else
		return 0;
	if (n > len)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* Characters in valid UTF-8 (invalid bytes count one each). */
size_t
utf8_chars(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, n = 0, k;
	unsigned int		 cp;

	while (i < len) {
		k = utf8_decode(p + i, len - i, &cp);
		i += k == 0 ? 1 : k;
		n++;
	}
	return n;
}

/* Display columns of a UTF-8 string, for the table writer. */
size_t
utf8_width(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, w = 0, k;
	unsigned int		 cp;
	int			 cw;

	while (i < len) {
		k = utf8_decode(p + i, len - i, &cp);
		if (k == 0) {
			i++;
			w++;
			continue;
		}
		i += k;
		cw = wcwidth((wchar_t)cp);
		if (cw < 0) {
			/* Unknown to the C library: wide for CJK and emoji. */
			cw = (cp >= 0x1100 && (cp <= 0x115f ||
			    (cp >= 0x2e80 && cp <= 0xa4cf) ||
			    (cp >= 0xac00 && cp <= 0xd7a3) ||
			    (cp >= 0xf900 && cp <= 0xfaff) ||
			    (cp >= 0xfe30 && cp <= 0xfe4f) ||
			    (cp >= 0xff00 && cp <= 0xff60) ||
			    (cp >= 0x1f300 && cp <= 0x1faff) ||
			    (cp >= 0x20000 && cp <= 0x3fffd))) ? 2 : 1;
		}
		w += cw;
	}
	return w;
}

/*
 * A player name: 1 to 32 characters of valid UTF-8 without control
 * characters, so that it fits VARCHAR(32) under utf8mb4.
 */
int
check_name(const char *s, size_t len, char **cause)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, k, chars = 0;
	unsigned int		 cp;

	if (len == 0) {
		xasprintf(cause, "empty name");
		return -1;
	}
	/* The collations pad with spaces: '   ' is '' to them. */
	if (strspn(s, " ") >= len) {
		xasprintf(cause, "blank name (only spaces)");
		return -1;
	}
	while (i < len) {
		k = utf8_decode(p + i, len - i, &cp);
		if (k == 0) {
			xasprintf(cause, "name is not valid UTF-8 (byte %zu)",
			    i + 1);
			return -1;
		}
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0)) {
			xasprintf(cause, "name holds a control character "
			    "(U+%04X)", cp);
			return -1;
		}
		i += k;
		chars++;
	}
	if (chars > NAME_MAX_CHARS) {
		xasprintf(cause, "name is %zu characters long; at most %d",
		    chars, NAME_MAX_CHARS);
		return -1;
	}
	return 0;
}

/*
 * HOST:PORT as the host list takes it back: an IPv6 address in brackets,
 * [::1]:4000, since ::1:4000 is another address.
 */
char *
host_port(const char *host, unsigned int port)
{
	char	*s;

	xasprintf(&s, strchr(host, ':') != NULL ? "[%s]:%u" : "%s:%u", host,
	    port);
	return s;
}

double
now_seconds(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * A user's word as it may be shown in a message: control characters and
 * bytes that are not UTF-8 escaped as \xNN, cut after 40 characters, so
 * that an error never sends escape sequences to the terminal. Rotates
 * through a few buffers so that one message can show two words.
 */
const char *
shown(const char *s)
{
	static char	 bufs[4][40 * 4 + 8];
	static int	 next;
	const unsigned char *p = (const unsigned char *)s;
	char		*buf = bufs[next++ % 4], *w = buf;
	size_t		 k, len = strlen(s), i = 0, chars = 0;
	unsigned int	 cp;

	while (i < len) {
		if (chars++ == 40) {
			memcpy(w, "...", 3);
			w += 3;
			break;
		}
		k = utf8_decode(p + i, len - i, &cp);
		if (k == 0 || cp < 0x20 || cp == 0x7f ||
		    (cp >= 0x80 && cp < 0xa0)) {
			snprintf(w, 5, "\\x%02x", p[i]);
			w += 4;
			i++;
			continue;
		}
		memcpy(w, p + i, k);
		w += k;
		i += k;
	}
	*w = '\0';
	return buf;
}

/*
 * Ctrl-C, as the one thread sees it: the handler only counts it and
 * writes a byte to a pipe, so that whatever the program waits on in
 * poll() (the server's socket, a FIFO's other end, the time before a
 * retry) wakes at once. What a Ctrl-C means is decided where the wait
 * is, never in the handler.
 */
static int			intr_pipe[2] = { -1, -1 };
static volatile sig_atomic_t	intr_count;

void
intr_init(void)
{
	int	i;

	if (intr_pipe[0] != -1)
		return;
	if (pipe(intr_pipe) != 0)
		fatalx("pipe: %s", strerror(errno));
	for (i = 0; i < 2; i++) {
		fcntl(intr_pipe[i], F_SETFD, FD_CLOEXEC);
		fcntl(intr_pipe[i], F_SETFL, O_NONBLOCK);
	}
}

/* From a signal handler: only what is async-signal-safe. */
void
intr_raise(void)
{
	int	saved = errno;

	intr_count++;
	if (intr_pipe[1] != -1)
		(void)!write(intr_pipe[1], "c", 1);
	errno = saved;
}

/* The descriptor that is readable once a Ctrl-C came; -1 without. */
int
intr_fd(void)
{
	return intr_pipe[0];
}

/* How many Ctrl-C came since the last intr_reset. */
unsigned int
intr_pending(void)
{
	return (unsigned int)intr_count;
}

/* The pipe is emptied, so that a poll() does not wake for an old one. */
void
intr_drain(void)
{
	char	buf[64];

	if (intr_pipe[0] != -1)
		while (read(intr_pipe[0], buf, sizeof buf) > 0)
			;
}

/* A new command: a Ctrl-C that came before it is not for it. */
void
intr_reset(void)
{
	intr_drain();
	intr_count = 0;
}

/*
 * Wait until fd is ready for events, Ctrl-C comes, or timeout_ms passes
 * (-1: no limit). 1 ready, 0 timed out, -1 Ctrl-C (errno EINTR).
 */
int
intr_poll(int fd, short events, int timeout_ms)
{
	struct pollfd	pfd[2];
	unsigned int	seen = intr_pending();
	int		n;

	for (;;) {
		pfd[0] = (struct pollfd){ fd, events, 0 };
		pfd[1] = (struct pollfd){ intr_fd(), POLLIN, 0 };
		n = poll(pfd, pfd[1].fd == -1 ? 1 : 2, timeout_ms);
		if (intr_pending() != seen) {
			intr_drain();
			errno = EINTR;
			return -1;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		if (pfd[0].revents != 0)
			return 1;
		intr_drain();	/* a byte of a Ctrl-C already counted */
	}
}

/*
 * open(2) of a path that may be a FIFO, whose open waits for the other
 * end: the wait is done in poll(), so that Ctrl-C ends it and nothing is
 * read or written after. Other files open as open(2) does.
 */
int
open_interruptible(const char *path, int flags, mode_t mode)
{
	struct stat	st;
	int		fd, rd = (flags & O_ACCMODE) == O_RDONLY, rc;

	if (stat(path, &st) != 0 || !S_ISFIFO(st.st_mode))
		return open(path, flags, mode);
	if (rd) {
		/* A reader's open does not wait; its first read would. */
		if ((fd = open(path, flags | O_NONBLOCK, mode)) == -1)
			return -1;
		if ((rc = intr_poll(fd, POLLIN, -1)) != 1) {
			close(fd);
			errno = rc == 0 ? ETIMEDOUT : EINTR;
			return -1;
		}
	} else {
		/* A writer's fails with ENXIO until a reader is there. */
		while ((fd = open(path, flags | O_NONBLOCK, mode)) == -1) {
			if (errno != ENXIO)
				return -1;
			if (intr_poll(-1, 0, 100) == -1)
				return -1;
		}
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}
