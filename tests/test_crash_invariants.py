"""kill -9 under checkout load on PostgreSQL (issue #14, item 8): the API server is killed three
times while shoppers check out, pay and post events, each client retrying what failed with the same
Idempotency-Key, as a real client would. Afterwards the books must hold:

* no oversell: no stock below zero, and for every SKU, the stock left plus what live orders hold is
  what it started with;
* one capture per paid checkout (none for an unpaid one), for exactly the checkout's total;
* money identities: a checkout's total is the sum of its orders' paid amounts;
* one checkout per idempotency key, and every checkout a client was told about exists;
* every event the server acknowledged (202) is in the event store."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from tests.commerce_helpers import ADDRESS
from tests.factories import auth, make_product, make_shop, make_user
from tests.web_helpers import free_port
from zhongcao.events.store import PostgresEventStore

pytestmark = [pytest.mark.slow, pytest.mark.pg_only]

SHOPPERS = 6
SKUS = 3
STOCK = 40
KILLS = 3


def _url(database) -> str:  # type: ignore[no-untyped-def]
    url = database.engine.url.render_as_string(hide_password=False)
    with database.engine.connect() as conn:
        schema = conn.execute(text("SHOW search_path")).scalar()
    return url + f"?options=-csearch_path%3D{schema}"


def _start(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "zhongcao.api:create_app"]
            + ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health/live", timeout=1).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server did not start: {log.read_text()[-3000:]}")


class Shopper:
    """One client: checkout, pay, report events; a failed call is retried with the same key."""

    def __init__(self, base: str, headers: dict[str, str], sku_ids: list[int], stop: threading.Event) -> None:
        self.base, self.headers, self.sku_ids, self.stop = base, headers, sku_ids, stop
        self.checkout_keys: dict[str, int | None] = {}  # key -> checkout id the server answered
        self.acknowledged_events: set[str] = set()
        self.errors: list[str] = []

    def _send(self, method: str, path: str, body: dict, key: str | None = None) -> httpx.Response | None:  # type: ignore[type-arg]
        headers = {**self.headers, **({"Idempotency-Key": key} if key else {})}
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            try:
                response = httpx.request(method, self.base + path, json=body, headers=headers, timeout=10)
            except httpx.TransportError:  # the server was killed: retry the same request
                time.sleep(0.2)
                continue
            if response.status_code == 409 and response.json()["error"]["code"] == "idempotency_in_progress":
                time.sleep(float(response.headers.get("Retry-After", "1")))
                continue
            if response.status_code >= 500:
                self.errors.append(f"{method} {path}: {response.status_code} {response.text[:200]}")
                return None
            return response
        self.errors.append(f"{method} {path}: no answer within 40 s")
        return None

    def run(self) -> None:
        rng = random.Random()
        while not self.stop.is_set():
            key = uuid.uuid4().hex
            self.checkout_keys[key] = None
            body = {
                "items": [{"sku_id": rng.choice(self.sku_ids), "quantity": rng.randint(1, 3)}],
                "shipping_address": ADDRESS,
            }
            placed = self._send("POST", "/api/checkout", body, key)
            if placed is None or placed.status_code != 201:
                continue  # sold out (409) is an answer too
            checkout_id = placed.json()["id"]
            self.checkout_keys[key] = checkout_id
            self._send(
                "POST",
                f"/api/checkouts/{checkout_id}/pay",
                {"payment_method": "pm_card_ok"},
                uuid.uuid4().hex,
            )
            events = [
                {"event_id": uuid.uuid4().hex, "type": "product_view", "product_id": 1} for _ in range(3)
            ]
            sent = self._send("POST", "/api/events", {"events": events})
            if sent is not None and sent.status_code == 202:
                self.acknowledged_events.update(e["event_id"] for e in events)


def test_books_hold_after_kill_9_under_checkout_load(db, database, tmp_path) -> None:  # type: ignore[no-untyped-def]
    shop = make_shop(db)
    product = make_product(db, shop.shop, stock=STOCK)
    sku_ids = [s.id for s in product.skus][:SKUS]
    shoppers_headers = [auth(db, make_user(db)) for _ in range(SHOPPERS)]
    db.commit()
    initial = {
        sid: stock
        for sid, stock in db.execute(
            text("SELECT id, stock FROM skus WHERE id = ANY(:ids)"), {"ids": sku_ids}
        )
    }
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(Path(__file__).parent.parent / "src"), os.environ.get("PYTHONPATH", "")]
        ),
        "ZHONGCAO_DATABASE_URL": _url(database),
        "ZHONGCAO_EVENTS_BACKEND": "postgres",
        "ZHONGCAO_ANALYTICS_DIR": str(tmp_path / "analytics"),
        "ZHONGCAO_SEARCH_INDEX_DIR": str(tmp_path / "search"),
    }
    port, log = free_port(), tmp_path / "server.log"
    base = f"http://127.0.0.1:{port}"
    server = _start(env, port, log)
    stop = threading.Event()
    clients = [Shopper(base, h, sku_ids, stop) for h in shoppers_headers]
    threads = [threading.Thread(target=c.run) for c in clients]
    try:
        for thread in threads:
            thread.start()
        for _ in range(KILLS):
            time.sleep(random.uniform(1.0, 2.0))
            os.kill(server.pid, signal.SIGKILL)  # no shutdown, no rollback: the connections just die
            server.wait()
            server = _start(env, port, log)
        time.sleep(1.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
        server.terminate()
        server.wait(timeout=30)

    errors = [e for c in clients for e in c.errors]
    assert errors == [], errors[:10]
    db.expire_all()
    q = lambda sql, **p: db.execute(text(sql), p).all()  # noqa: E731
    # No oversell.
    stock = dict(q("SELECT id, stock FROM skus WHERE id = ANY(:ids)", ids=sku_ids))
    assert all(v >= 0 for v in stock.values()), stock
    held = dict(
        q(
            "SELECT oi.sku_id, coalesce(sum(oi.quantity), 0) FROM order_items oi JOIN orders o ON o.id = oi.order_id "
            "WHERE o.status <> 'cancelled' AND oi.sku_id = ANY(:ids) GROUP BY oi.sku_id",
            ids=sku_ids,
        )
    )
    assert {s: stock[s] + held.get(s, 0) for s in sku_ids} == initial
    # One capture per paid checkout, for its total; none for an unpaid one.
    rows = q(
        "SELECT c.id, c.status, c.total_fen, count(p.id) FILTER (WHERE p.status = 'captured'), "
        "coalesce(sum(p.amount_fen) FILTER (WHERE p.status = 'captured'), 0) "
        "FROM checkouts c LEFT JOIN payments p ON p.checkout_id = c.id GROUP BY c.id"
    )
    assert any(status == "paid" for _, status, *_ in rows), "no checkout was paid"
    for checkout_id, status, total, captures, captured in rows:
        if status == "paid":
            assert (captures, captured) == (1, total), checkout_id
        else:
            assert captures == 0, checkout_id
    # Money: a checkout's total is its orders' paid amounts.
    mismatched = q(
        "SELECT c.id FROM checkouts c JOIN orders o ON o.checkout_id = c.id "
        "GROUP BY c.id, c.total_fen HAVING sum(o.paid_fen) <> c.total_fen"
    )
    assert mismatched == []
    # One checkout per key; every checkout a client was told about exists, and no other.
    told = [cid for c in clients for cid in c.checkout_keys.values() if cid is not None]
    assert len(told) == len(set(told))
    assert {r[0] for r in rows} == set(told)
    # Every acknowledged event is kept.
    acknowledged = set().union(*(c.acknowledged_events for c in clients))
    assert acknowledged, "no event was acknowledged"
    store = PostgresEventStore(database.engine)  # the server's: the platform database's events table
    kept = set(store.query("SELECT event_id FROM events")["event_id"].to_pylist())
    assert acknowledged <= kept, len(acknowledged - kept)
