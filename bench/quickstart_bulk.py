#!/usr/bin/python3
"""The TiDB SQLAlchemy quickstart's bulk step, as a user would run it.

Everything the quickstart does for it is here and timed: import SQLAlchemy
and PyMySQL, create the engine with verified TLS, create the table when it
is missing, then insert N players (default 200) in batches of 50 with
session.bulk_save_objects and commit once.

Settings come from the environment, with the quickstart's names (its .env
file is read by python-dotenv into the same variables): TIDB_HOST,
TIDB_PORT, TIDB_USER, TIDB_PASSWORD, TIDB_DB_NAME, CA_PATH.

Usage: quickstart_bulk.py [N [PREFIX]]
"""
import os
import sys

from sqlalchemy import Column, Integer, String, create_engine
from sqlalchemy.engine import URL  # sqlalchemy.URL from 2.0 on
from sqlalchemy.orm import declarative_base, sessionmaker


def get_db_engine():
    ca_path = os.environ.get("CA_PATH", "")
    connect_args = {}
    if ca_path:
        connect_args = {
            "ssl_verify_cert": True,
            "ssl_verify_identity": True,
            "ssl_ca": ca_path,
        }
    return create_engine(
        URL.create(
            drivername="mysql+pymysql",
            username=os.environ.get("TIDB_USER", "root"),
            password=os.environ.get("TIDB_PASSWORD", ""),
            host=os.environ.get("TIDB_HOST", "127.0.0.1"),
            port=int(os.environ.get("TIDB_PORT", "4000")),
            database=os.environ.get("TIDB_DB_NAME", "test"),
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
    __tablename__ = "players"


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
