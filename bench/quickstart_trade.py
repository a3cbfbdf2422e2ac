#!/usr/bin/python3
"""The TiDB SQLAlchemy quickstart's trade(), as a user would run it.

Everything the quickstart does for it is here and timed: import SQLAlchemy
and PyMySQL, create the engine with verified TLS (quickstart.py), create the
table when it is missing, then trade(): one session, the buyer's row locked
with SELECT ... FOR UPDATE and its coins checked, then the seller's row
locked and its goods checked, one UPDATE for each, commit. The quickstart
names the two players by id, so this does too. With TIMES, the same trade
runs that many times in a row (each in its own session, as the quickstart's
trade() opens one), so that the cost of one more trade can be measured.

Usage: quickstart_trade.py BUYER_ID SELLER_ID AMOUNT PRICE [TIMES]
"""
import sys

from quickstart import Base, Player, Session, engine


def trade(buyer_id, seller_id, amount, price):
    with Session() as session:
        buyer = session.query(Player).filter(
            Player.id == buyer_id).with_for_update().one()
        if buyer.coins < price:
            print("buyer coins not enough")
            return False
        seller = session.query(Player).filter(
            Player.id == seller_id).with_for_update().one()
        if seller.goods < amount:
            print("seller goods not enough")
            return False
        session.query(Player).filter(Player.id == buyer_id).update(
            {Player.coins: Player.coins - price,
             Player.goods: Player.goods + amount})
        session.query(Player).filter(Player.id == seller_id).update(
            {Player.coins: Player.coins + price,
             Player.goods: Player.goods - amount})
        session.commit()
        print("trade success")
        return True


def main():
    if len(sys.argv) not in (5, 6):
        sys.exit("usage: quickstart_trade.py BUYER_ID SELLER_ID AMOUNT "
                 "PRICE [TIMES]")
    buyer, seller, amount, price = (int(a) for a in sys.argv[1:5])
    times = int(sys.argv[5]) if len(sys.argv) > 5 else 1

    Base.metadata.create_all(engine)
    for _ in range(times):
        if not trade(buyer, seller, amount, price):
            sys.exit(1)


if __name__ == "__main__":
    main()
