# faults tests: retries, reconnects, liveness and the host list, many
# shells at once (real faults against the test server), and a real 3-node
# Galera cluster (tests/galera.sh) with conflicts between nodes, a
# transaction the cluster aborts, and a node killed; and every writing
# command with a fault at every turn of its exchange (tests/faults.t,
# through tests/faultproxy.py).
TESTS += tests/retry.t tests/reconnect.t tests/liveness.t \
	tests/concurrency.t tests/cluster.t tests/cluster-txn.t tests/cluster-serving.t \
	tests/faults.t
EXTRA_DIST += tests/retry.t tests/reconnect.t tests/liveness.t \
	tests/concurrency.t tests/cluster.t tests/cluster-txn.t tests/cluster-serving.t \
	tests/faults.t tests/faults.py tests/faultproxy.py
