# faults tests: retries, reconnects, many shells at once (real faults
# against the test server).
TESTS += tests/retry.t tests/reconnect.t tests/concurrency.t
EXTRA_DIST += tests/retry.t tests/reconnect.t tests/concurrency.t
