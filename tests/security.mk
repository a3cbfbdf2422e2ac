# security tests: secrets, the TLS policy, hostile input, valgrind; and
# "make fuzz" for the libFuzzer harnesses.
TESTS += tests/secrets.t tests/tls.t tests/trust.t tests/hostname.t \
	tests/hostile.t tests/valgrind.t
EXTRA_DIST += tests/secrets.t tests/tls.t tests/trust.t tests/hostname.t \
	tests/hostile.t tests/hostile.cases \
	tests/valgrind.t tests/lsan.supp tests/fuzz/run \
	tests/fuzz/fuzz_line.c tests/fuzz/fuzz_settings.c tests/fuzz/fuzz_csv.c \
	tests/fuzz/corpus

FUZZ_SECONDS = 60
fuzz:
	top_builddir='$(abs_top_builddir)' $(SHELL) $(top_srcdir)/tests/fuzz/run $(FUZZ_SECONDS)
.PHONY: fuzz

# The same sanitizer settings as tests/lib.sh, for tests/unit too.
AM_TESTS_ENVIRONMENT += \
	: "$${ASAN_OPTIONS:=detect_leaks=1:exitcode=98}"; \
	: "$${UBSAN_OPTIONS:=print_stacktrace=1:exitcode=97}"; \
	: "$${LSAN_OPTIONS:=suppressions=$(abs_top_srcdir)/tests/lsan.supp:print_suppressions=0:exitcode=96}"; \
	export ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS;
