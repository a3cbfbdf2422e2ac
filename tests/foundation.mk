# foundation tests: settings, the core commands, script mode, bad input
TESTS += tests/settings.t
EXTRA_DIST += tests/settings.t
TESTS += tests/commands.t
EXTRA_DIST += tests/commands.t
TESTS += tests/script.t
EXTRA_DIST += tests/script.t
TESTS += tests/badinput.t
EXTRA_DIST += tests/badinput.t
TESTS += tests/grouping.t
EXTRA_DIST += tests/grouping.t
TESTS += tests/sources.t
EXTRA_DIST += tests/sources.t
