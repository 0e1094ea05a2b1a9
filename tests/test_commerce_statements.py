"""A regression guard on the round trips of the ordinary order path: SQL statements per checkout and
per payment, as the API runs them (idempotency, auth and the response included).

Counted with a ``before_cursor_execute`` listener on the app's engine while one request runs. The
limits are the counts as they are (docs/api.md, "Round trips per order"; before issue #18 they were
17 + 26 statements in 3 + 3 transactions on PostgreSQL): a change that adds a round trip to every
order must raise them here, on purpose.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import event

from tests.commerce_helpers import ADDRESS, first_sku
from tests.factories import auth, make_product, make_shop, make_user

# (statements, transactions) at most, per database. SQLite counts its BEGIN IMMEDIATE as a statement.
LIMITS = {
    "sqlite": {"checkout": (14, 2), "pay": (19, 2)},
    # pay: + 1 on both since flash sales: the order_paid handler looks for a flash-sale admission.
    "postgresql": {"checkout": (13, 2), "pay": (18, 2)},
}


@dataclass
class Counted:
    statements: list[str] = field(default_factory=list)
    commits: int = 0

    def report(self, what: str) -> str:
        lines = [f"{what}: {len(self.statements)} statements, {self.commits} transactions committed"]
        lines += ["    " + " ".join(s.split())[:150] for s in self.statements]
        return "\n".join(lines)


@contextmanager
def counting(engine) -> Iterator[Counted]:  # type: ignore[no-untyped-def]
    counted = Counted()

    def before(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        counted.statements.append(statement)

    def commit(conn):  # type: ignore[no-untyped-def]
        counted.commits += 1

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "commit", commit)
    try:
        yield counted
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "commit", commit)


def _one_order(client, db, database):  # type: ignore[no-untyped-def]
    bundle = make_shop(db)
    product = make_product(db, bundle.shop, stock=50)
    sku = first_sku(db, product)
    headers = auth(db, make_user(db))
    db.commit()
    body = {"items": [{"sku_id": sku.id, "quantity": 1}], "shipping_address": ADDRESS}
    # A first order warms what is cached per process, as on a running server.
    r = client.post("/api/checkout", json=body, headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
    assert r.status_code == 201, r.text
    r = client.post(
        f"/api/checkouts/{r.json()['id']}/pay",
        json={"payment_method": "pm_card_ok"},
        headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert r.status_code == 200, r.text
    with counting(database.engine) as checkout_sql:
        r = client.post("/api/checkout", json=body, headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
    assert r.status_code == 201, r.text
    with counting(database.engine) as pay_sql:
        r = client.post(
            f"/api/checkouts/{r.json()['id']}/pay",
            json={"payment_method": "pm_card_ok"},
            headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
        )
    assert r.status_code == 200, r.text
    return checkout_sql, pay_sql


def test_statements_per_checkout_and_payment(client, db, database) -> None:
    checkout, pay = _one_order(client, db, database)
    print(f"\n[{database.dialect}] " + checkout.report("checkout") + "\n" + pay.report("pay"))
    limits = LIMITS[database.dialect]
    assert len(checkout.statements) <= limits["checkout"][0], checkout.report("checkout")
    assert checkout.commits <= limits["checkout"][1], checkout.report("checkout")
    assert len(pay.statements) <= limits["pay"][0], pay.report("pay")
    assert pay.commits <= limits["pay"][1], pay.report("pay")
