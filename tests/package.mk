# packaging tests: the bash completion against --help, and the Debian
# package built from a clean copy of the tree, checked and unpacked.
TESTS += tests/completion.t
EXTRA_DIST += tests/completion.t tests/complete.sh
TESTS += tests/package.t
EXTRA_DIST += tests/package.t
