# shell tests: the command language, CSV, the quickstart, interop, the terminal
TESTS += tests/language.t tests/trade.t
EXTRA_DIST += tests/language.t tests/trade.t
TESTS += tests/pty.t
EXTRA_DIST += tests/pty.t
TESTS += tests/terminal.t
EXTRA_DIST += tests/terminal.t tests/tmux.sh
TESTS += tests/quickstart.t
EXTRA_DIST += tests/quickstart.t examples/quickstart.tidbplay
TESTS += tests/csv.t tests/import.t
EXTRA_DIST += tests/csv.t tests/import.t
TESTS += tests/interop.t
EXTRA_DIST += tests/interop.t
TESTS += tests/export.t
EXTRA_DIST += tests/export.t
TESTS += tests/output.t
EXTRA_DIST += tests/output.t
