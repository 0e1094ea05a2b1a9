"""``zhongcao import interactions``: both formats, bad lines, nothing half-imported, idempotent re-import."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from sqlalchemy import func, select
from typer.testing import CliRunner

from zhongcao import migrate
from zhongcao.catalog.models import Product, Sku
from zhongcao.config import get_settings
from zhongcao.db import Database
from zhongcao.events.store import EventStore, PostgresEventStore, SegmentEventStore
from zhongcao.imports import BadFile, Format, import_app, import_interactions, price_fen
from zhongcao.users import security
from zhongcao.users.models import User

PAIRS = "1 10\n1 11\n2 10\n\n3 12\n3 10\n"
SEQUENCES = "1 10 11\n2 10\n3 12 10\n"


@pytest.fixture
def store(database: Database, tmp_path: Path) -> Iterator[EventStore]:
    made: EventStore
    if database.dialect == "postgresql":
        made = PostgresEventStore(database.engine, table=f"events_t{secrets.token_hex(4)}")
    else:
        made = SegmentEventStore(tmp_path / "events")
    yield made
    if isinstance(made, PostgresEventStore):
        made.drop()
    made.close()


def _counts(db) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    users = db.scalar(
        select(func.count()).select_from(User).where(User.email.like("u%@import.zhongcao.local"))
    )
    counts = (
        users,
        db.scalar(select(func.count()).select_from(Product)),
        db.scalar(select(func.count()).select_from(Sku)),
    )
    db.rollback()  # SQLite has one writer: the test's session must not hold it during the next import
    return counts


@pytest.mark.parametrize(("fmt", "text"), [(Format.pairs, PAIRS), (Format.sequences, SEQUENCES)])
def test_both_formats_import_users_products_and_ordered_purchases(
    database: Database,
    db,
    store: EventStore,
    tmp_path: Path,
    fmt: Format,
    text: str,  # type: ignore[no-untyped-def]
) -> None:
    path = tmp_path / "in.txt"
    path.write_text(text)
    result = import_interactions(database, path, fmt, store=store)
    n = 5  # both files hold the same five interactions
    assert (result.interactions, result.users, result.products, result.new_products) == (n, 3, 3, 3)
    # three shoppers plus the imported shop's owner; one product and SKU per item
    assert _counts(db) == (4, 3, 3)
    shopper = db.scalar(select(User).where(User.email == "u3@import.zhongcao.local"))
    assert shopper.role.value == "shopper" and not security.verify_password(shopper.password_hash, "")
    item = db.scalar(select(Product).where(Product.title_en == "item 12"))
    rows = store.query("SELECT * FROM events ORDER BY ts").to_pylist()
    assert len(rows) == n
    assert {r["event_id"] for r in rows} >= {"import:1:10:0", "import:1:11:1", "import:3:10:1"}
    assert all(r["type"] == "order" for r in rows)
    of_3 = [r for r in rows if r["user_id"] == shopper.id]
    assert [r["product_id"] for r in of_3][0] == item.id and len(of_3) == 2
    assert of_3[0]["ts"] < of_3[1]["ts"] and of_3[0]["value_fen"] == price_fen("12")


def test_reimport_is_idempotent(database: Database, db, store: EventStore, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "in.txt"
    path.write_text(PAIRS)
    import_interactions(database, path, Format.pairs, store=store)
    again = import_interactions(database, path, Format.pairs, store=store)
    assert again.new_products == 0
    assert _counts(db) == (4, 3, 3)
    assert store.query("SELECT count(*) FROM events").column(0)[0].as_py() == 5
    path.write_text(PAIRS + "4 13\n")  # a larger file adds only what is new
    more = import_interactions(database, path, Format.pairs, store=store)
    assert more.new_products == 1 and _counts(db) == (5, 4, 4)
    assert store.query("SELECT count(*) FROM events").column(0)[0].as_py() == 6


@pytest.mark.parametrize(
    ("fmt", "text", "line"),
    [
        (Format.pairs, "1 10\n2 x\n", 2),
        (Format.pairs, "1 10\n1 10 11\n", 2),
        (Format.pairs, "1 10\n2 11\n-3 4\n", 3),
        (Format.sequences, "1 10 11\n2\n", 2),
        (Format.sequences, "1 0\n", 1),
    ],
)
def test_a_bad_line_is_named_and_nothing_is_imported(
    database: Database,
    db,
    store: EventStore,
    tmp_path: Path,
    fmt: Format,
    text: str,
    line: int,  # type: ignore[no-untyped-def]
) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(BadFile, match=rf"^line {line}: expected"):
        import_interactions(database, path, fmt, store=store)
    assert _counts(db) == (0, 0, 0)
    assert store.query("SELECT count(*) FROM events").column(0)[0].as_py() == 0


def test_a_failure_inside_the_transaction_leaves_nothing(
    database: Database,
    db,
    store: EventStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    path = tmp_path / "in.txt"
    path.write_text(PAIRS)
    import zhongcao.imports as imports

    def broken(*_args: object) -> object:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(imports, "events_table", broken)
    with pytest.raises(RuntimeError):
        import_interactions(database, path, Format.pairs, store=store)
    assert _counts(db) == (0, 0, 0)
    assert store.query("SELECT count(*) FROM events").column(0)[0].as_py() == 0


def test_the_cli_reports_the_bad_line_and_imports_a_good_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'z.db'}"
    monkeypatch.setenv("ZHONGCAO_DATABASE_URL", url)
    monkeypatch.setenv("ZHONGCAO_EVENTS_DIR", str(tmp_path / "ev"))
    monkeypatch.setenv("ZHONGCAO_EVENTS_BACKEND", "segments")
    get_settings.cache_clear()
    try:
        database = Database(url)
        migrate.upgrade(database.engine)
        database.dispose()
        bad = tmp_path / "bad.txt"
        bad.write_text("1 10 11 12\n7 8 x\n")
        runner = CliRunner()
        cli = typer.Typer()
        cli.add_typer(import_app, name="import")  # as cli.py registers it
        res = runner.invoke(cli, ["import", "interactions", str(bad), "--format", "sequences"])
        assert res.exit_code == 2
        assert "line 2" in res.output
        missing = runner.invoke(cli, ["import", "interactions", str(tmp_path / "nope.txt")])
        assert missing.exit_code == 2 and "cannot read" in missing.output
        good = tmp_path / "good.txt"
        good.write_text(SEQUENCES)
        res = runner.invoke(cli, ["import", "interactions", str(good), "--format", "sequences"])
        assert res.exit_code == 0, res.output
        assert "imported 5 interactions: 3 users, 3 products (3 new)" in res.output
        assert (
            SegmentEventStore(tmp_path / "ev").query("SELECT count(*) FROM events").column(0)[0].as_py() == 5
        )
    finally:
        get_settings.cache_clear()
