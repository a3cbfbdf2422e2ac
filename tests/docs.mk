# docs tests: the man page documents every command, option and setting.
TESTS += tests/man.t
EXTRA_DIST += tests/man.t
