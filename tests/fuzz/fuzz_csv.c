/*
 * libFuzzer harness for the CSV reader that import uses: the header, then
 * every record as a player, as player_import() validates a file.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tidbplay.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The input in chunks of 7 bytes, so that records cross chunks. */
struct chunks {
	const uint8_t	*p;
	size_t		 left;
};

static int
next_chunk(void *arg, const char **p, size_t *len)
{
	struct chunks	*ch = arg;

	if (ch->left == 0)
		return 0;
	*p = (const char *)ch->p;
	*len = ch->left < 7 ? ch->left : 7;
	ch->p += *len;
	ch->left -= *len;
	return 1;
}

static void
unread_chunk(void *arg, size_t n)
{
	struct chunks	*ch = arg;

	ch->p -= n;
	ch->left += n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chunks	 ch = { data, size };
	struct input	 in = { .next = next_chunk, .unread = unread_chunk,
			       .arg = &ch, .line = 1 };
	struct player	 pl;
	struct csv	*c;
	char		*cause;
	int		 col[3], rc, marker;

	/* The first byte picks a file or standard input's data (\. ends). */
	if (size == 0)
		return 0;
	marker = data[0] & 1;
	ch.p++;
	ch.left--;
	c = csv_open(&in, "fuzz.csv", marker);
	if (csv_header(c, col, &cause) != 0)
		free(cause);
	else {
		while ((rc = csv_read(c, &cause)) == 1) {
			if (csv_player(c, col, &pl, &cause) != 0) {
				free(cause);
				continue;
			}
			if (pl.namelen == 0 || pl.namelen > NAME_MAX_BYTES ||
			    strlen(pl.name) != pl.namelen || pl.coins < 0 ||
			    pl.coins > INT_LIMIT || pl.goods < 0 ||
			    pl.goods > INT_LIMIT)
				abort();
		}
		if (rc < 0) {
			free(cause);
			csv_skip(c);
		}
	}
	csv_close(c);
	if (ch.left > size)
		abort();
	return 0;
}
