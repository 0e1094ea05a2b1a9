"""Faults under a flash sale (issue #18, item 6), on PostgreSQL with a private Redis: many buyers race
for a few units through two API workers while one API worker and the job worker are killed with
SIGKILL (and restarted) once a quarter of the units are taken, and Redis is restarted empty at half.
Two job workers run, as in production: the one running the writer is killed and the other takes over
within a second. Each client retries what failed with
the same Idempotency-Key, as a real client would, and pays the order it was given. Afterwards:

* 0 oversold: orders holding a unit never pass the sale's quantity, and the sale row agrees;
* every buyer told "admitted" has exactly one order (the limit is 1), and no buyer has two;
* every payment a client was told succeeded is there, captured once for the checkout's total;
* money identities: a checkout's total is its orders' paid amounts and its items' flash price;
* stock: the SKU kept what it had minus the sale's units, and the sale's units left are its quantity
  minus the orders holding one."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tests.commerce_helpers import ADDRESS
from tests.factories import make_product, make_shop
from tests.test_crash_invariants import _url
from tests.web_helpers import free_port
from zhongcao import clock
from zhongcao.flashsales import service
from zhongcao.flashsales.service import NewSale
from zhongcao.users import service as users_service
from zhongcao.users.models import TokenKind, User

pytestmark = [
    pytest.mark.slow,
    pytest.mark.pg_only,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
]

BUYERS = 120
UNITS = 30
STOCK = 50
CLIENT_THREADS = 12
# Upper bounds only (a passing run waits for none of them): a busy machine takes tens of seconds to
# start an API worker or the job worker (each imports the whole platform).
SETTLE_S = 60
ANSWER_WITHIN_S = 60


class PrivateRedis:
    """A redis-server of the test's own on a free port, keeping nothing on disk (as in production:
    a restart loses every counter)."""

    def __init__(self, log: Path) -> None:
        self.port, self.log = free_port(), log
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            done = subprocess.run(
                ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True, check=False
            )
            if done.stdout.strip() == "PONG":
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()


def _api(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    """One API worker (its own uvicorn process: killing it takes down nothing else)."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "zhongcao.api:create_app"]
            + ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def _healthy(process: subprocess.Popen[bytes], base: str, log: Path, within_s: float = 180) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited: {log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{base}/api/health/live", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server did not start: {log.read_text()[-3000:]}")


def _loop_holder(db: Any, workers: list[subprocess.Popen[bytes]]) -> subprocess.Popen[bytes] | None:
    """The job worker whose loop runs the writer (holds its advisory lock), if any."""
    names = db.scalars(
        text(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND a.application_name LIKE :name"
        ),
        {"name": "zhongcao-loop flash_sale_orders %"},
    ).all()
    db.rollback()
    pids = {int(name.rsplit(" ", 1)[1]) for name in names}
    return next((w for w in workers if w.pid in pids), None)


def _wait_tickets(db: Any, sale_id: int, at_least: int, within_s: float = 60) -> None:
    """Until the sale has this many tickets in PostgreSQL (or the time is up: the faults come anyway)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        count = db.execute(
            text("SELECT count(*) FROM flash_admissions WHERE sale_id = :s"), {"s": sale_id}
        ).scalar()
        db.rollback()
        if count >= at_least:
            return
        time.sleep(0.05)


def _generation(db: Any, sale_id: int) -> int:
    found = db.execute(text("SELECT counters_generation FROM flash_sales WHERE id = :s"), {"s": sale_id})
    value = int(found.scalar())
    db.rollback()
    return value


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "zhongcao.jobs", "flash_sale_orders"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


class Buyer:
    """One shopper: join (twice: the second must be refused), then pay the order the writer gives."""

    def __init__(self, headers: dict[str, str], n: int) -> None:
        self.headers, self.n = headers, n
        self.admitted: list[str] = []  # tickets the server said 201 for
        self.paid_checkouts: list[int] = []  # checkouts the server said were paid
        self.errors: list[str] = []

    def send(self, bases: list[str], method: str, path: str, body: Any, key: str) -> httpx.Response | None:
        headers = {**self.headers, "Idempotency-Key": key}
        deadline = time.monotonic() + ANSWER_WITHIN_S
        attempt = self.n
        last = "nothing"
        while time.monotonic() < deadline:
            up = list(bases)  # the workers in service now (a balancer takes a dead one out)
            base = up[attempt % len(up)]
            attempt += 1
            try:
                response = httpx.request(method, base + path, json=body, headers=headers, timeout=10)
            except httpx.TransportError as exc:
                last = f"{base}: {type(exc).__name__}"
                time.sleep(0.1)
                continue
            last = f"{base}: {response.status_code} {response.text[:120]}"
            if response.status_code in (429, 503) or (
                response.status_code == 409 and response.json()["error"]["code"] == "idempotency_in_progress"
            ):
                time.sleep(min(float(response.headers.get("Retry-After", "1")), 1.0))
                continue
            if response.status_code >= 500:
                self.errors.append(f"{method} {path}: {response.status_code} {response.text[:200]}")
                return None
            return response
        self.errors.append(f"{method} {path}: no answer within {ANSWER_WITHIN_S} s (last: {last})")
        return None

    def join(self, bases: list[str], sale_id: int) -> None:
        for _ in range(2):
            answer = self.send(
                bases,
                "POST",
                f"/api/flash-sales/{sale_id}/join",
                {"shipping_address": {**ADDRESS, "line": f"文三路 {self.n} 号"}},
                uuid.uuid4().hex,
            )
            if answer is not None and answer.status_code == 201:
                self.admitted.append(answer.json()["ticket"]["ticket"])
            elif answer is not None and answer.json()["error"]["code"] not in (
                "sold_out",
                "limit_reached",
            ):
                self.errors.append(f"join: {answer.status_code} {answer.text[:200]}")

    def pay(self, bases: list[str], sale_id: int, deadline: float) -> None:
        while self.admitted and time.monotonic() < deadline:
            try:
                state = httpx.get(
                    f"{list(bases)[-1]}/api/flash-sales/{sale_id}", headers=self.headers, timeout=5
                )
            except httpx.TransportError:
                time.sleep(0.2)
                continue
            tickets = state.json()["tickets"] if state.status_code == 200 else []
            ordered = [t for t in tickets if t["state"] == "ordered"]
            if ordered or any(t["state"] == "paid" for t in tickets):
                for ticket in ordered:
                    paid = self.send(
                        bases,
                        "POST",
                        f"/api/checkouts/{ticket['checkout_id']}/pay",
                        {"payment_method": "pm_card_ok"},
                        uuid.uuid4().hex,
                    )
                    if paid is not None and paid.status_code == 200:
                        self.paid_checkouts.append(ticket["checkout_id"])
                return
            time.sleep(0.3)
        if self.admitted:
            self.errors.append(f"buyer {self.n}: admitted but no order to pay")


def test_a_flash_sale_keeps_its_books_through_kills_and_a_redis_restart(
    db, database, settings, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    redis = PrivateRedis(tmp_path / "redis.log")
    redis.start()
    shop = make_shop(db)
    product = make_product(db, shop.shop, stock=STOCK, price_fen=9900)
    sku = product.skus[0]
    tag = uuid.uuid4().hex[:8]
    ids = users_service.create_users_bulk(
        db,
        [users_service.NewUser(f"fs-{tag}-{n}@example.com", f"buyer {n}") for n in range(BUYERS)],
        password_hash="unused",  # the buyers call the API with tokens
    )
    headers = [
        {
            "Authorization": "Bearer "
            + users_service.issue_token(db, db.get(User, i), kind=TokenKind.api, name="t")[0]
        }
        for i in ids
    ]
    db.commit()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(Path(__file__).parent.parent / "src"), os.environ.get("PYTHONPATH", "")]
        ),
        "ZHONGCAO_DATABASE_URL": _url(database),
        "ZHONGCAO_REDIS_URL": redis.url,
        "ZHONGCAO_REDIS_PREFIX": f"faults{uuid.uuid4().hex[:8]}:",
        "ZHONGCAO_BUY_REQUESTS_PER_ADDRESS_PER_MINUTE": "100000",  # every client here is 127.0.0.1
        "ZHONGCAO_ANALYTICS_DIR": str(tmp_path / "analytics"),
        "ZHONGCAO_SEARCH_INDEX_DIR": str(tmp_path / "search"),
    }
    settings = settings.model_copy(
        update={"redis_url": redis.url, "redis_prefix": env["ZHONGCAO_REDIS_PREFIX"]}
    )
    sale = service.create_sale(
        db,
        shop_id=shop.shop.id,
        created_by=shop.owner.id,
        new=NewSale(
            sku_id=sku.id,
            title="整点秒杀",
            price_fen=1990,
            quantity=UNITS,
            per_buyer_limit=1,
            payment_window_minutes=15,
            starts_at=clock.now(),
        ),
        settings=settings,
    )
    sale_id = sale.id
    db.commit()

    ports = [free_port(), free_port()]
    bases = [f"http://127.0.0.1:{p}" for p in ports]
    logs = [tmp_path / f"api{i}.log" for i in (0, 1)]
    servers = [_api(env, port, log) for port, log in zip(ports, logs, strict=True)]
    # Two job workers, as in production (docs/architecture.md: more are safe): one runs the writer's
    # loop, the other stands by for its lock. The one running it is killed; the other goes on within a
    # second, and the killed one is restarted (a restart alone: tests/test_jobs_procrastinate.py).
    job_logs = [tmp_path / f"worker{i}.log" for i in (0, 1)]
    job_workers = [_worker(env, log) for log in job_logs]
    for server, base, log in zip(servers, bases, logs, strict=True):
        _healthy(server, base, log)
    deadline = time.monotonic() + 180
    while not all("job worker (Procrastinate)" in log.read_text() for log in job_logs) or (
        _loop_holder(db, job_workers) is None
    ):
        assert time.monotonic() < deadline, [log.read_text()[-2000:] for log in job_logs]
        assert all(w.poll() is None for w in job_workers), [log.read_text()[-2000:] for log in job_logs]
        time.sleep(0.2)
    up = list(bases)
    buyers = [Buyer(h, n) for n, h in enumerate(headers)]
    todo: queue.Queue[Buyer] = queue.Queue()
    for buyer in buyers:
        todo.put(buyer)

    def client() -> None:
        while True:
            try:
                buyer = todo.get_nowait()
            except queue.Empty:
                return
            buyer.join(up, sale_id)
            buyer.pay(up, sale_id, time.monotonic() + SETTLE_S)

    threads = [threading.Thread(target=client) for _ in range(CLIENT_THREADS)]
    try:
        for thread in threads:
            thread.start()
        _wait_tickets(db, sale_id, UNITS // 4)  # mid-sale: a quarter of the units taken
        up.remove(bases[0])
        os.kill(servers[0].pid, signal.SIGKILL)  # an API worker, with requests under way
        holder = _loop_holder(db, job_workers)
        assert holder is not None
        os.kill(holder.pid, signal.SIGKILL)  # the job worker running the writer, mid-batch
        servers[0].wait()
        holder.wait()
        servers[0] = _api(env, ports[0], logs[0])
        killed = job_workers.index(holder)
        job_workers[killed] = _worker(env, job_logs[killed])
        _wait_tickets(db, sale_id, UNITS // 2)  # the other API worker goes on admitting meanwhile
        generation = _generation(db, sale_id)
        redis.kill()  # Redis restarts with nothing: every counter is gone
        redis.start()
        _healthy(servers[0], bases[0], logs[0])
        up.append(bases[0])
        for thread in threads:
            thread.join(timeout=SETTLE_S + 30)
        # Settle: the writer has written every ticket that is still queued.
        deadline = time.monotonic() + SETTLE_S
        while time.monotonic() < deadline:
            queued = db.execute(
                text("SELECT count(*) FROM flash_admissions WHERE sale_id = :s AND state = 'queued'"),
                {"s": sale_id},
            ).scalar()
            db.rollback()
            if queued == 0:
                break
            time.sleep(0.3)
    finally:
        for process in [*servers, *job_workers]:
            process.terminate()
        for process in [*servers, *job_workers]:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        redis.kill()

    # The counters were rebuilt from PostgreSQL after the restart (a new generation; joins record a
    # ticket only under the current one, so none came in before the rebuild).
    assert _generation(db, sale_id) > generation
    assert "counters rebuilt from PostgreSQL" in "".join(log.read_text() for log in job_logs)
    errors = [e for b in buyers for e in b.errors]
    assert errors == [], errors[:10]
    assert not any(t.is_alive() for t in threads)
    db.expire_all()
    q = lambda sql, **p: db.execute(text(sql), p).all()  # noqa: E731
    tickets = q(
        "SELECT sale_id || ':' || user_id || ':' || seq AS ticket, user_id, state, checkout_id, order_id "
        "FROM flash_admissions WHERE sale_id = :s",
        s=sale_id,
    )
    holding = [t for t in tickets if t.state in ("queued", "ordered", "paid")]
    # 0 oversold, and the sale row agrees with its tickets.
    units_taken, returned = q(
        "SELECT units_taken, returned_to_stock FROM flash_sales WHERE id = :s", s=sale_id
    )[0]
    assert len(holding) <= UNITS and units_taken == len(holding), (len(holding), units_taken)
    assert [t for t in holding if t.state == "queued"] == []
    orders = q(
        "SELECT o.id, o.user_id, o.status, o.paid_fen, c.id AS checkout_id FROM orders o "
        "JOIN checkouts c ON c.id = o.checkout_id JOIN order_items oi ON oi.order_id = o.id "
        "WHERE oi.sku_id = :k",
        k=sku.id,
    )
    live_orders = [o for o in orders if o.status != "cancelled"]
    assert len(live_orders) == len(holding) <= UNITS
    # Every admitted buyer has exactly one order; nobody has two.
    told = {ticket for b in buyers for ticket in b.admitted}
    by_ticket = {t.ticket: t for t in tickets}
    assert told and told <= set(by_ticket), "a ticket the client was told about is missing"
    assert all(by_ticket[t].state in ("ordered", "paid") and by_ticket[t].order_id for t in told)
    per_user: dict[int, int] = {}
    for order in live_orders:
        per_user[order.user_id] = per_user.get(order.user_id, 0) + 1
    assert max(per_user.values()) == 1, per_user
    assert len(told) == len(live_orders)
    # No paid order lost: captured once, for the checkout's total.
    paid = {c for b in buyers for c in b.paid_checkouts}
    assert paid, "nobody paid"
    rows = {
        r[0]: r
        for r in q(
            "SELECT c.id, c.status, c.total_fen, count(p.id) FILTER (WHERE p.status = 'captured'), "
            "coalesce(sum(p.amount_fen) FILTER (WHERE p.status = 'captured'), 0) "
            "FROM checkouts c LEFT JOIN payments p ON p.checkout_id = c.id "
            "WHERE c.id = ANY(:ids) GROUP BY c.id",
            ids=[o.checkout_id for o in orders],
        )
    }
    for checkout_id in paid:
        _, status, total, captures, captured = rows[checkout_id]
        assert (status, captures, captured) == ("paid", 1, total), checkout_id
    # Money identities: checkout = its orders = its items at the flash price.
    assert (
        q(
            "SELECT c.id FROM checkouts c JOIN orders o ON o.checkout_id = c.id WHERE c.id = ANY(:ids) "
            "GROUP BY c.id, c.total_fen HAVING sum(o.paid_fen) <> c.total_fen",
            ids=list(rows),
        )
        == []
    )
    assert {
        r[0]
        for r in q(
            "SELECT oi.unit_price_fen FROM order_items oi JOIN orders o ON o.id = oi.order_id WHERE oi.sku_id = :k",
            k=sku.id,
        )
    } == {1990}
    # Stock: the SKU kept the rest; the sale has its quantity minus the orders holding a unit.
    stock = q("SELECT stock FROM skus WHERE id = :k", k=sku.id)[0][0]
    assert returned == 0 and stock == STOCK - UNITS
    quantity = q("SELECT quantity FROM flash_sales WHERE id = :s", s=sale_id)[0][0]
    assert quantity - units_taken == UNITS - len(live_orders)
