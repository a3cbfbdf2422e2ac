#!/bin/sh
# Names match as the table's collation compares them, and status says
# which it is: MariaDB's default utf8mb4_general_ci ignores case and
# trailing spaces; utf8mb4_bin, TiDB's default, ignores trailing spaces
# only.

. "$top_srcdir/tests/lib.sh"
start_server

# ---- the server's default, as tidbplay creates the table ----

tp -e 'add alice 1 2; add f1 3 4'
is "$(sql "SELECT table_collation FROM information_schema.tables
    WHERE table_schema = 'test' AND table_name = 'players'")" \
    utf8mb4_general_ci "the table has MariaDB's default collation"
tp -e status
like "$OUT" "^collation:   utf8mb4_general_ci$" "status: the table's collation"
tp --format json -e status
is "$(printf '%s\n' "$OUT" | jq -r .collation)" utf8mb4_general_ci \
    "status in json: the collation"

tp -e 'show ALICE'
is "$RC" 0 "utf8mb4_general_ci: show ALICE finds alice"
like "$OUT" "	alice	1	2$" "utf8mb4_general_ci: it is alice's row"
tp -e 'find AL'
like "$OUT" "	alice	" "utf8mb4_general_ci: find AL finds alice"
tp -e "add 'f1 ' 5 6"
is "$RC" 1 "utf8mb4_general_ci: 'f1 ' collides with f1"
like "$ERR" "already exists" "utf8mb4_general_ci: it is a duplicate"
tp -e "add F1 5 6"
is "$RC" 1 "utf8mb4_general_ci: F1 collides with f1"

# ---- utf8mb4_bin, as TiDB creates it ----

sql "CREATE TABLE bin_players (id INTEGER NOT NULL AUTO_INCREMENT,
    name VARCHAR(32), coins INTEGER, goods INTEGER, PRIMARY KEY (id),
    UNIQUE (name)) DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin"
tp --table bin_players -e 'add alice 1 2; add f1 3 4; status'
like "$OUT" "^collation:   utf8mb4_bin$" "status: utf8mb4_bin"
tp --table bin_players -e 'show ALICE'
is "$RC" 1 "utf8mb4_bin: show ALICE does not find alice"
tp --table bin_players -e "add F1 5 6"
is "$RC" 0 "utf8mb4_bin: F1 is another player than f1"
tp --table bin_players -e "add 'f1 ' 5 6"
is "$RC" 1 "utf8mb4_bin: 'f1 ' still collides with f1 (PAD SPACE)"

# ---- a table not made yet: the database's default, which it will get ----

tp --table not_yet -e status
like "$OUT" "^collation:   utf8mb4_general_ci$" \
    "status before the table exists: the collation it will have"

done_testing
