#!/bin/sh
# tidbplay and the quickstart's own Python program share one table: the
# quickstart's SQLAlchemy model, over PyMySQL with verified TLS as the seed
# page connects, reads exactly what tidbplay writes and the other way round,
# and whichever runs first creates the same table.

. "$top_srcdir/tests/lib.sh"

PY=/usr/bin/python3
if ! "$PY" -c 'import sqlalchemy, pymysql' 2>/dev/null; then
	skip_all "python3-sqlalchemy or python3-pymysql is not installed"
fi

start_server

# The quickstart's connection and model (seed page: "Connect to TiDB",
# "Define a table"), with the table name and the action from the command
# line. Names are printed with repr(), so that every character shows.
cat >"$T/quickstart.py" <<'PY'
import os
import sys

from sqlalchemy import Column, Integer, String, create_engine
from sqlalchemy.orm import declarative_base, sessionmaker
try:
    from sqlalchemy import URL
except ImportError:         # SQLAlchemy 1.4, as in Debian 12
    from sqlalchemy.engine import URL


def get_db_engine():
    connect_args = {}
    if os.environ["CA_PATH"]:
        connect_args = {
            "ssl_verify_cert": True,
            "ssl_verify_identity": True,
            "ssl_ca": os.environ["CA_PATH"],
        }
    return create_engine(
        URL.create(
            drivername="mysql+pymysql",
            username=os.environ["TIDB_USER"],
            password=os.environ["TIDB_PASSWORD"],
            host=os.environ["TIDB_HOST"],
            port=int(os.environ["TIDB_PORT"]),
            database=os.environ["TIDB_DB_NAME"],
            query={"charset": "utf8mb4"},
        ),
        connect_args=connect_args,
    )


engine = get_db_engine()
Session = sessionmaker(bind=engine)
Base = declarative_base()


class Player(Base):
    id = Column(Integer, primary_key=True)
    name = Column(String(32), unique=True)
    coins = Column(Integer)
    goods = Column(Integer)

    __tablename__ = sys.argv[1]


action = sys.argv[2]
if action == "create":
    Base.metadata.create_all(engine)
elif action == "add":
    # add NAME COINS GOODS ...: one session, one commit, ids printed
    with Session() as session:
        players = []
        args = sys.argv[3:]
        for i in range(0, len(args), 3):
            players.append(Player(name=args[i], coins=int(args[i + 1]),
                                  goods=int(args[i + 2])))
        session.add_all(players)
        session.commit()
        for p in players:
            print(p.id)
elif action == "dump":
    with Session() as session:
        for p in session.query(Player).order_by(Player.id):
            print(repr((p.id, p.name, p.coins, p.goods)))
elif action == "update":
    # The quickstart's "Update data": coins = 200 for the named player.
    with Session() as session:
        player = session.query(Player).filter_by(name=sys.argv[3]).one()
        player.coins = 200
        session.commit()
elif action == "delete":
    with Session() as session:
        player = session.query(Player).filter_by(name=sys.argv[3]).one()
        session.delete(player)
        session.commit()
elif action == "ssl":
    with engine.connect() as conn:
        row = conn.exec_driver_sql(
            "SHOW SESSION STATUS LIKE 'Ssl_version'").fetchone()
        print(row[1])
PY

py() {
	env TIDB_HOST="$TP_HOST" TIDB_PORT="$TP_PORT" TIDB_USER="$TP_USER" \
	    TIDB_PASSWORD="$TP_PASSWORD" TIDB_DB_NAME=test CA_PATH="$TP_CA" \
	    "$PY" "$T/quickstart.py" "$@" >"$T/pyout" 2>"$T/pyerr"
	PRC=$?
	POUT=$(cat "$T/pyout")
	PERR=$(cat "$T/pyerr")
}

# ---- Python connects as the seed page does: verified TLS, user app ----

py players ssl
is "$PRC" 0 "the quickstart's connection works against the test server"
like "$POUT" "^TLSv1\.[23]$" "the quickstart's connection uses TLS"
if [ "$PRC" -ne 0 ]; then
	diag "$PERR"
fi

# ---- Python first: it creates the table, tidbplay uses it ----

py players create
is "$PRC" 0 "Python creates players with the quickstart's model"
py players add py_alice 10 20 'py 张三' 5 6 'py🎉' 1 2 "py 'q\" \\" 0 2147483647
is "$PRC" 0 "Python adds four players"
ids=$(printf '%s\n' "$POUT" | tr '\n' ' ')
set -- $ids - - - -
tp -e 'list'
is "$RC" 0 "tidbplay lists the players Python added: exit 0"
is "$OUT" "$1	py_alice	10	20
$2	py 张三	5	6
$3	py🎉	1	2
$4	py 'q\" \\\\	0	2147483647" "tidbplay lists exactly what Python added, with Python's ids (tsv escapes the backslash)"
tp -e "show 'py🎉'"
is "$OUT" "$3	py🎉	1	2" "tidbplay shows an emoji name Python added"
tp -e "show 'py 张三'"
is "$OUT" "$2	py 张三	5	6" "tidbplay shows a CJK name with a space Python added"
tp -e 'show "py '"'"'q\" \\"'
is "$OUT" "$4	py 'q\" \\\\	0	2147483647" "tidbplay shows a name with both quotes and a backslash"
tp --format json -e 'show "py '"'"'q\" \\"'
is "$(printf '%s\n' "$OUT" | jq -r .name)" "py 'q\" \\" "the same name in json, unescaped by jq"

# ---- tidbplay writes, Python reads back exactly ----

tp -e "add 'tp🦄 unicorn' 3 4; add 'tp \"dq\"' 7 8; add tp_ascii 100 0;
    add '  spaced  ' 9 9; trade tp_ascii py_alice 5 60"
is "$RC" 0 "tidbplay adds players and trades"
py players dump
is "$PRC" 0 "Python reads the table"
want=$("$PY" -c '
import sys
ids = [int(x) for x in sys.argv[1:5]]
rows = [
    (ids[0], "py_alice", 70, 15), (ids[1], "py \u5f20\u4e09", 5, 6),
    (ids[2], "py\U0001f389", 1, 2), (ids[3], "py '"'"'q\" \\", 0, 2147483647),
]
for r in rows:
    print(repr(r))
' $ids)
got_py=$(printf '%s\n' "$POUT" | head -n 4)
is "$got_py" "$want" "Python reads its own players, with the trade applied"
got_tp=$(printf '%s\n' "$POUT" | tail -n +5 | sed 's/^([0-9]*, //')
want_tp=$("$PY" -c '
for r in (("tp\U0001f984 unicorn", 3, 4), ("tp \"dq\"", 7, 8),
    ("tp_ascii", 40, 5), ("  spaced  ", 9, 9)):
    print(repr(r)[1:])')
is "$got_tp" "$want_tp" "Python reads exactly what tidbplay added: emoji, quotes, spaces, the trade"
is "$(sql "SELECT HEX(name) FROM players WHERE coins = 3")" \
    "$(printf 'tp🦄 unicorn' | od -An -tx1 | tr -d ' \n' | tr a-f A-F)" \
    "the emoji tidbplay added is stored as 4-byte UTF-8"

# The quickstart's update and delete, seen by tidbplay.
py players add test 100 100
py players update test
is "$PRC" 0 "Python: the quickstart's update"
tp -e 'show test'
like "$OUT" "	test	200	100$" "tidbplay sees Python's update"
py players delete test
tp -e 'show test'
is "$RC" 1 "tidbplay: the player Python deleted is gone"
like "$ERR" "no player named 'test'" "tidbplay: no player named test"

# Python sees tidbplay's del and rename.
tp -e "rename 'tp🦄 unicorn' 'tp🐉 dragon'; del '  spaced  '"
py players dump
like "$POUT" "'tp🐉 dragon', 3, 4\)$" "Python sees tidbplay's rename"
unlike "$POUT" "spaced" "Python sees tidbplay's del"

# ---- tidbplay first: it creates the table, Python uses it ----

tp --table shared -e "add first 1 1"
is "$RC" 0 "tidbplay creates a table on first use"
py shared create
is "$PRC" 0 "Python's create_all accepts the table tidbplay created"
py shared add second 2 2
is "$PRC" 0 "Python adds to tidbplay's table"
tp --table shared -e list
is "$(printf '%s\n' "$OUT" | cut -f2- | tr '\n' ' ')" "first	1	1 second	2	2 " \
    "both players in tidbplay's table"

# Created by either, the table is the same.
a=$(sql "SHOW CREATE TABLE shared" | cut -f2- | sed 's/`shared`/`T`/; s/ AUTO_INCREMENT=[0-9]*//')
b=$(sql "SHOW CREATE TABLE players" | cut -f2- | sed 's/`players`/`T`/; s/ AUTO_INCREMENT=[0-9]*//')
is "$a" "$b" "SHOW CREATE TABLE is the same, whichever program created it"

done_testing
