# The benchmark against the tools a user would otherwise pick (DESIGN.md,
# "Performance"; results in bench/RESULTS.md), on the bare loopback and
# through a delay proxy that counts round trips. Speed is never a test, so
# this is not in TESTS: run "make bench", or "make bench-quick" for a smoke
# run with fewer rounds and smaller sizes.
EXTRA_DIST += bench/run bench/delay_proxy.py bench/quickstart.py \
	bench/quickstart_bulk.py bench/quickstart_trade.py bench/RESULTS.md

bench: tidbplay$(EXEEXT)
	TIDBPLAY=$(abs_builddir)/tidbplay$(EXEEXT) bash $(srcdir)/bench/run

bench-quick: tidbplay$(EXEEXT)
	TIDBPLAY=$(abs_builddir)/tidbplay$(EXEEXT) bash $(srcdir)/bench/run --quick

.PHONY: bench bench-quick
