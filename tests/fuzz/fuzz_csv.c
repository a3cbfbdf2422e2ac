/*
 * libFuzzer harness for the CSV reader that import uses: the header, then
 * every record as a player, as player_import() validates a file.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tidbplay.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct player	 pl;
	struct csv	*c;
	FILE		*f;
	char		*cause;
	int		 col[3], rc;

	/* fmemopen() refuses an empty buffer; an empty file is /dev/null. */
	if (size == 0)
		f = fopen("/dev/null", "r");
	else
		f = fmemopen((void *)data, size, "r");
	if (f == NULL)
		abort();
	c = csv_open(f, "fuzz.csv");
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
		if (rc < 0)
			free(cause);
	}
	csv_close(c);
	fclose(f);
	return 0;
}
