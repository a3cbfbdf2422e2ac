/*
 * libFuzzer harness for the settings readers: the input is written to a
 * private temporary file and read as an INI file, then as a .env file.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tidbplay.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	path[] = "/tmp/tidbplay-fuzz-settings.XXXXXX";
static int	fd = -1;

static void
remove_file(void)
{
	unlink(path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct settings	 s;
	char		*cause;

	if (fd == -1) {
		if ((fd = mkstemp(path)) == -1)
			abort();
		atexit(remove_file);
	}
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) !=
	    (ssize_t)size)
		abort();

	settings_init(&s);
	if (settings_load_ini(&s, path, TRUST_FILE, &cause) != 0 ||
	    settings_finish(&s, 0, &cause) != 0)
		free(cause);
	settings_free(&s);

	settings_init(&s);
	if (settings_load_dotenv(&s, path, TRUST_FILE, &cause) != 0 ||
	    settings_finish(&s, 0, &cause) != 0)
		free(cause);
	settings_free(&s);
	return 0;
}
