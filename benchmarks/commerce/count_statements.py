"""SQL statements and transactions of one checkout and one payment, as the API runs them.

Run by bench_checkout.py in a process of its own (so that ``--before-src`` counts the other tree's
code): ``python count_statements.py URL TOKEN SKU_ID`` prints one JSON object. The app is built in
this process against the benchmark's database; a first order warms what a running server caches,
the second is counted with a ``before_cursor_execute`` listener (and ``commit``) on the engine.
SQLite counts its ``BEGIN IMMEDIATE`` as a statement; PostgreSQL's implicit BEGIN is not one.
"""

from __future__ import annotations

import json
import sys
import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event

from zhongcao.api import create_app
from zhongcao.config import Settings

ADDRESS = {
    "name": "张三",
    "phone": "13800000000",
    "province": "上海市",
    "city": "上海市",
    "district": "浦东新区",
    "line": "世纪大道 1 号",
}


def main() -> None:
    url, token, sku_id = sys.argv[1], sys.argv[2], int(sys.argv[3])
    app = create_app(settings=Settings(database_url=url))
    engine = app.state.database.engine
    counts: dict[str, Any] = {"statements": 0, "commits": 0}

    def statement(*_args: Any) -> None:
        counts["statements"] += 1

    def commit(*_args: Any) -> None:
        counts["commits"] += 1

    headers = {"Authorization": f"Bearer {token}"}
    body = {"items": [{"sku_id": sku_id, "quantity": 1}], "shipping_address": ADDRESS}
    out: dict[str, dict[str, int]] = {}
    with TestClient(app) as client:
        for counted in (False, True):
            for step in ("checkout", "pay"):
                if counted:
                    counts.update(statements=0, commits=0)
                    event.listen(engine, "before_cursor_execute", statement)
                    event.listen(engine, "commit", commit)
                key = {"Idempotency-Key": uuid.uuid4().hex}
                if step == "checkout":
                    r = client.post("/api/checkout", json=body, headers=headers | key)
                    checkout_id = r.json()["id"]
                else:
                    r = client.post(
                        f"/api/checkouts/{checkout_id}/pay",
                        json={"payment_method": "pm_card_ok"},
                        headers=headers | key,
                    )
                assert r.status_code in (200, 201), r.text
                if counted:
                    event.remove(engine, "before_cursor_execute", statement)
                    event.remove(engine, "commit", commit)
                    out[step] = dict(counts)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
