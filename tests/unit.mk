# unit tests: no server; the cases are read from tests/cases/
check_PROGRAMS += tests/unit
TESTS += tests/unit
tests_unit_SOURCES = tests/unit.c
tests_unit_CFLAGS = $(libtidbplay_a_CFLAGS)
tests_unit_LDADD = $(LDADD_CORE)
EXTRA_DIST += tests/cases/tokenize.cases tests/cases/check.cases \
	tests/cases/settings.cases tests/cases/csv.cases \
	tests/cases/output.cases
