#!/usr/bin/python3
"""The TiDB SQLAlchemy quickstart's bulk step, as a user would run it.

Everything the quickstart does for it is here and timed: import SQLAlchemy
and PyMySQL, create the engine with verified TLS (quickstart.py), create the
table when it is missing, then insert N players (default 200) in batches of
50 with session.bulk_save_objects and commit once.

Usage: quickstart_bulk.py [N [PREFIX]]
"""
import sys

from quickstart import Base, Player, Session, engine


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    prefix = sys.argv[2] if len(sys.argv) > 2 else "player"
    batch = 50

    Base.metadata.create_all(engine)
    players = [Player(name=f"{prefix}_{i}", coins=10000, goods=100)
               for i in range(n)]
    with Session() as session:
        for i in range(0, len(players), batch):
            session.bulk_save_objects(players[i:i + batch])
        session.commit()


if __name__ == "__main__":
    main()
