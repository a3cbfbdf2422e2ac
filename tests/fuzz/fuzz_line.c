/*
 * libFuzzer harness for the command line parser: split_line() on the
 * input, then command_check() on every command it yields.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "session.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct command	*c;
	struct words		*cmds;
	size_t			 n, i;
	char			*cause;

	if (split_line((const char *)data, size, &cmds, &n, &cause) != 0) {
		free(cause);
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (cmds[i].argc < 1 || cmds[i].argc > MAX_ARGS ||
		    cmds[i].argv[cmds[i].argc] != NULL)
			abort();
		if (command_check(&cmds[i], &c, &cause) != 0)
			free(cause);
	}
	free_words(cmds, n);
	return 0;
}
