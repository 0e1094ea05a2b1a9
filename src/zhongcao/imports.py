"""``zhongcao import interactions``: real interaction files in as users, products and purchase events.

Mapping (no mapping table: it lives in fields, deterministically): source user ``U`` is the shopper
with email ``uU@import.zhongcao.local``; source item ``I`` is the product titled ``item I`` in the
shop "Imported interactions" (owner ``uimport-owner@import.zhongcao.local``), category
``imported / imported-items``; each interaction is an ``order`` event with event_id
``import:U:I:K`` (K = position in U's sequence), so a re-import is idempotent: rows are reused and
the replayed events are counted once.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pyarrow as pa
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from zhongcao.catalog import service as catalog_service
from zhongcao.config import get_settings
from zhongcao.db import Database
from zhongcao.errors import DomainError
from zhongcao.events import model as events_model
from zhongcao.events import service as events_service
from zhongcao.events.store import EventStore
from zhongcao.shops import service as shops_service
from zhongcao.users import service as users_service
from zhongcao.users.models import Role

import_app = typer.Typer(help="Load real data: interaction files, the Olist catalog.", no_args_is_help=True)
err = Console(stderr=True)

# Interactions carry no time; synthesised timestamps keep file order, one second apart from here.
IMPORT_T0 = datetime(2024, 1, 1, tzinfo=UTC)
OWNER_EXTERNAL_ID = "import-owner"
SHOP_NAME_EN = "Imported interactions"
TOP_SLUG, LEAF_SLUG = "imported", "imported-items"
IMPORT_STOCK = 1000


class Format(StrEnum):
    pairs = "pairs"
    sequences = "sequences"


class BadFile(ValueError):
    """A line of the input that is not what the format says; the message names the line."""


@dataclass(frozen=True)
class Interactions:
    users: list[str]  # one per interaction, in file order
    items: list[str]


def _positive(token: str) -> bool:
    return token.isdigit() and token.strip("0") != ""


def parse(path: Path, fmt: Format) -> Interactions:
    """Read every line first, so a bad line is reported before anything is written."""
    users: list[str] = []
    items: list[str] = []
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise BadFile(f"cannot read {path}: {exc.strerror}") from None
    with handle:
        for line_no, line in enumerate(handle, start=1):
            tokens = line.split()
            if not tokens:
                continue
            want = "'user item'" if fmt is Format.pairs else "'user item item ...'"
            if (
                (fmt is Format.pairs and len(tokens) != 2)
                or len(tokens) < 2
                or not all(map(_positive, tokens))
            ):
                shown = line.strip()[:80]
                raise BadFile(f"line {line_no}: expected {want} as positive integers, got {shown!r}")
            user = str(int(tokens[0]))
            for token in tokens[1:]:
                users.append(user)
                items.append(str(int(token)))
    if not users:
        raise BadFile(f"{path} holds no interactions")
    return Interactions(users, items)


def price_fen(item: str) -> int:
    """A stable price per item (the source has none): 9.90 to 299.90 yuan."""
    digest = int.from_bytes(hashlib.sha256(item.encode()).digest()[:4], "big")
    return 990 + (digest % 290) * 100


def item_title(item: str) -> str:
    return f"item {item}"


def _ensure_shop(db: Any) -> tuple[int, int]:
    owner_id = users_service.create_import_users(db, [OWNER_EXTERNAL_ID], role=Role.merchant)[
        OWNER_EXTERNAL_ID
    ]
    membership = shops_service.membership_for_user(db, owner_id)
    if membership is not None:
        shop_id = membership.shop_id
    else:
        shop_id = shops_service.create_shop(
            db, name_zh="导入的交互数据", name_en=SHOP_NAME_EN, owner_user_id=owner_id, commit=False
        ).id
    top = catalog_service.category_by_slug(db, TOP_SLUG) or catalog_service.create_category(
        db, slug=TOP_SLUG, name_zh="导入", name_en="Imported", commit=False
    )
    leaf = catalog_service.category_by_slug(db, LEAF_SLUG) or catalog_service.create_category(
        db, slug=LEAF_SLUG, name_zh="导入商品", name_en="Imported items", parent_id=top.id, commit=False
    )
    return shop_id, leaf.id


def events_table(data: Interactions, user_ids: dict[str, int], product_ids: dict[str, int]) -> pa.Table:
    n = len(data.users)
    seen: dict[str, int] = {}
    event_ids = []
    for user, item in zip(data.users, data.items, strict=True):
        k = seen.get(user, 0)
        seen[user] = k + 1
        event_ids.append(f"import:{user}:{item}:{k}")
    t0 = int(IMPORT_T0.timestamp()) * 1_000_000
    return events_model.prepare(
        {
            "event_id": event_ids,
            "ts": t0 + np.arange(n, dtype=np.int64) * 1_000_000,
            "type": ["order"] * n,
            "user_id": [user_ids[u] for u in data.users],
            "product_id": [product_ids[item_title(i)] for i in data.items],
            "value_fen": [price_fen(i) for i in data.items],
            "channel": ["import"] * n,
        }
    )


@dataclass(frozen=True)
class ImportResult:
    interactions: int
    users: int
    products: int
    new_products: int


def import_interactions(
    database: Database,
    path: Path,
    fmt: Format,
    *,
    store: EventStore | None = None,
    progress: Progress | None = None,
) -> ImportResult:
    """Parse, then create users and products in one transaction, then write the events.

    Events are written only after the transaction commits; they are validated before it, so what can
    still fail then is the disk, and re-running (idempotent) completes the import.
    """

    def step(label: str, total: int | None = None) -> Any:
        return progress.add_task(label, total=total) if progress is not None else None

    def done(task: Any, total: int = 1) -> None:
        if progress is not None and task is not None:
            progress.update(task, completed=total, total=total)

    task = step("reading file")
    data = parse(path, fmt)
    done(task)
    distinct_items = list(dict.fromkeys(data.items))
    with database.session() as db:
        try:
            task = step("users and products", 3)
            user_ids = users_service.create_import_users(db, data.users)
            if progress is not None:
                progress.update(task, completed=1)
            shop_id, category_id = _ensure_shop(db)
            titles = [item_title(i) for i in distinct_items]
            product_ids = catalog_service.product_ids_by_title_en(db, shop_id, titles)
            new = [
                catalog_service.NewProduct(
                    shop_id=shop_id,
                    category_id=category_id,
                    title_zh=f"商品 {i}",
                    title_en=item_title(i),
                    skus=[
                        catalog_service.NewSku(code=f"item-{i}", price_fen=price_fen(i), stock=IMPORT_STOCK)
                    ],
                )
                for i in distinct_items
                if item_title(i) not in product_ids
            ]
            new_ids = catalog_service.create_products_bulk(db, new)
            product_ids.update(zip((p.title_en for p in new), new_ids, strict=True))
            if progress is not None:
                progress.update(task, completed=2)
            table = events_table(data, user_ids, product_ids)
            db.commit()
            done(task, 3)
        except BaseException:
            db.rollback()
            raise
    task = step("purchase events", table.num_rows)
    store = store or events_service.get_store(get_settings(), database)
    chunk = 100_000
    for start in range(0, table.num_rows, chunk):
        store.append(table.slice(start, chunk))
        if progress is not None:
            progress.update(task, completed=min(start + chunk, table.num_rows))
    return ImportResult(len(data.users), len(user_ids), len(product_ids), len(new))


@import_app.command("interactions")
def interactions_command(
    path: Annotated[Path, typer.Argument(help="the interaction file")],
    fmt: Annotated[
        Format, typer.Option("--format", help="pairs: 'user item' per line; sequences: 'user item item ...'")
    ] = Format.pairs,
) -> None:
    """Load interactions as shoppers, products (one imported shop) and purchase events."""
    database = Database(settings=get_settings())
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, console=err) as progress:
            result = import_interactions(database, path, fmt, progress=progress)
    except (BadFile, DomainError) as exc:
        err.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(2) from None
    finally:
        events_service.close_stores()
        database.dispose()
    typer.echo(
        f"imported {result.interactions} interactions: {result.users} users, "
        f"{result.products} products ({result.new_products} new), {result.interactions} purchase events"
    )
