"""The TiDB SQLAlchemy quickstart's connection and table, shared by the
benchmark's ports of its steps (quickstart_bulk.py, quickstart_trade.py).

As the quickstart writes them: an engine for mysql+pymysql with verified
TLS when CA_PATH is set, a session factory, and the Player model. Settings
come from the environment, with the quickstart's names (its .env file is
read by python-dotenv into the same variables): TIDB_HOST, TIDB_PORT,
TIDB_USER, TIDB_PASSWORD, TIDB_DB_NAME, CA_PATH.
"""
import os

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
