"""The demo world: built through the services, deterministic, bilingual, with the promised shape."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from sqlalchemy import func, select

from zhongcao.catalog.models import Product, Sku
from zhongcao.content.models import Account, AccountKind, Content, ContentAnchor, ContentKind, Follow
from zhongcao.db import Database
from zhongcao.shops.models import Shop, ShopStaff
from zhongcao.users.models import User
from zhongcao.world.cli import summary_table
from zhongcao.world.generate import DEMO_PASSWORD, SIZES, Scale, WorldSpec, demo_logins
from zhongcao.world.service import WorldError, build_world, load_latent

CJK = re.compile(r"[\u4e00-\u9fff]")


def _db_digest(database: Database) -> str:
    """A digest of what the world put in the database, in id order."""
    h = hashlib.sha256()
    with database.session(read_only=True) as db:
        for row in db.execute(select(User.email, User.role).order_by(User.id)):
            h.update(repr(tuple(row)).encode())
        for row in db.execute(select(Shop.name_zh, Shop.name_en).order_by(Shop.id)):
            h.update(repr(tuple(row)).encode())
        for row in db.execute(
            select(Product.title_zh, Product.title_en, Product.shop_id, Product.category_id).order_by(
                Product.id
            )
        ):
            h.update(repr(tuple(row)).encode())
        for row in db.execute(select(Sku.product_id, Sku.code, Sku.price_fen, Sku.stock).order_by(Sku.id)):
            h.update(repr(tuple(row)).encode())
        for row in db.execute(
            select(Content.title_en, Content.account_id, Content.kind).order_by(Content.id)
        ):
            h.update(repr(tuple(row)).encode())
    return h.hexdigest()


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    ra = np.argsort(np.argsort(a)).astype(float)
    rb = np.argsort(np.argsort(b)).astype(float)
    return float(np.corrcoef(ra, rb)[0, 1])


def test_small_world_is_built_through_the_services(database: Database, tmp_path: Path) -> None:
    spec = WorldSpec(scale=Scale.small, seed=11)
    summary = build_world(database, spec, progress=False, world_dir=tmp_path, simulate_days=False)
    sizes = SIZES[Scale.small]
    assert not summary.reused
    assert summary.counts["users"] == sizes.users
    assert summary.counts["shops"] == sizes.shops
    assert summary.counts["products"] == sizes.products
    assert summary.counts["content"] == sizes.content
    with database.session(read_only=True) as db:
        assert db.scalar(select(func.count()).select_from(Product)) == sizes.products
        assert db.scalar(select(func.count()).select_from(Shop)) == sizes.shops
        assert db.scalar(select(func.count()).select_from(ShopStaff)) == sizes.shops
        # Every product, shop and content item is bilingual.
        for zh, en in db.execute(select(Product.title_zh, Product.title_en)):
            assert CJK.search(zh), zh
            assert en.isascii() and en.strip(), en
        for zh, en in db.execute(select(Shop.name_zh, Shop.name_en)):
            assert CJK.search(zh) and en.isascii(), (zh, en)
        for zh, en in db.execute(select(Content.title_zh, Content.title_en)):
            assert CJK.search(zh) and en.isascii(), (zh, en)
        # Field (shop accounts), Alliance (creators) and Top-KOL all exist.
        kinds = dict(db.execute(select(Account.kind, func.count()).group_by(Account.kind)).all())
        assert kinds[AccountKind.shop] == sizes.shops and kinds[AccountKind.creator] == sizes.creators
        assert db.scalar(select(func.count()).select_from(Account).where(Account.is_top_kol.is_(True))) >= 2
        # Live sessions and short videos both carry anchors.
        for kind in (ContentKind.short_video, ContentKind.live):
            anchored = db.scalar(
                select(func.count(func.distinct(ContentAnchor.content_id)))
                .join(Content, Content.id == ContentAnchor.content_id)
                .where(Content.kind == kind)
            )
            assert anchored and anchored > 0
    latent = load_latent(summary.path)
    assert len(latent["shop_ids"]) == sizes.shops and len(latent["user_ids"]) == sizes.users
    assert latent["user_topic_interest"].shape[0] == sizes.users
    assert np.allclose(latent["user_topic_interest"].sum(axis=1), 1.0)
    assert len(latent["content_quality"]) == sizes.content

    again = build_world(database, spec, progress=False, world_dir=tmp_path, simulate_days=False)
    assert again.reused and again.digest == summary.digest

    # The demo's printout: the web app first, the follows it made, counts in words (not keys).
    with database.session(read_only=True) as db:
        follows = db.scalar(select(func.count()).select_from(Follow))
    assert summary.counts["follows"] == follows
    out = Console(width=400, record=True)
    out.print(summary_table(summary, "http://127.0.0.1:8000"))
    text = " ".join(out.export_text().split())
    assert text.index("http://127.0.0.1:8000/ ") < text.index("http://127.0.0.1:8000/api")
    assert "open affiliate plans" in text and f"shoppers {sizes.users:,}" in text
    assert not re.search(r"\b[a-z]+_[a-z_]+ \d", text), text


@pytest.mark.slow  # builds the world twice
def test_same_seed_same_world_and_fresh_rebuild(database: Database, tmp_path: Path) -> None:
    spec = WorldSpec(scale=Scale.tiny, seed=5)
    first = build_world(database, spec, progress=False, world_dir=tmp_path, simulate_days=False)
    first_db = _db_digest(database)
    rebuilt = build_world(database, spec, fresh=True, progress=False, world_dir=tmp_path, simulate_days=False)
    assert not rebuilt.reused
    assert rebuilt.digest == first.digest
    assert _db_digest(database) == first_db
    other = build_world(
        database,
        WorldSpec(scale=Scale.tiny, seed=6),
        fresh=True,
        progress=False,
        world_dir=tmp_path,
        simulate_days=False,
    )
    assert other.digest != first.digest
    assert _db_digest(database) != first_db


def test_another_world_in_the_database_needs_fresh(database: Database, tmp_path: Path) -> None:
    build_world(
        database, WorldSpec(scale=Scale.tiny, seed=1), progress=False, world_dir=tmp_path, simulate_days=False
    )
    with pytest.raises(WorldError, match="--fresh"):
        build_world(
            database,
            WorldSpec(scale=Scale.tiny, seed=2),
            progress=False,
            world_dir=tmp_path,
            simulate_days=False,
        )


def test_world_shape(database: Database, tmp_path: Path) -> None:
    summary = build_world(
        database,
        WorldSpec(scale=Scale.small, seed=42),
        progress=False,
        world_dir=tmp_path,
        simulate_days=False,
    )
    latent = load_latent(summary.path)
    # Creator audiences are heavy-tailed: the top 1% hold more than 20% of the audience.
    audience = np.sort(latent["creator_audience"])[::-1]
    top = max(1, len(audience) // 100)
    assert audience[:top].sum() / audience.sum() > 0.20
    with database.session(read_only=True) as db:
        followers = np.sort(
            np.asarray(
                db.scalars(select(Account.follower_count).where(Account.kind == AccountKind.creator)).all()
            )
        )[::-1]
        # Follows on the platform follow the audiences: the top tenth of creators hold over a third (an even spread would give a tenth).
        assert followers[: len(followers) // 10].sum() / followers.sum() > 0.35
        mean_price = dict(
            db.execute(
                select(Product.shop_id, func.avg(Sku.price_fen))
                .join(Sku, Sku.product_id == Product.id)
                .group_by(Product.shop_id)
            ).all()
        )
    # Shop quality is independent of price: how a shop prices against each product's category (the
    # mean log price relative to the leaf's median, so a shop's category mix does not count).
    shop_ids = latent["shop_ids"]
    quality = latent["shop_quality"]
    assert len(mean_price) == len(shop_ids)
    leaf, base = latent["product_leaf_index"], latent["product_base_price_fen"].astype(float)
    medians = {int(x): float(np.median(base[leaf == x])) for x in np.unique(leaf)}
    relative = np.log(base / np.asarray([medians[int(x)] for x in leaf]))
    shop_of = latent["product_shop_index"]
    prices = np.asarray([relative[shop_of == i].mean() for i in range(len(shop_ids))])
    assert abs(_spearman(quality, prices)) < 0.3
    assert abs(_spearman(quality, latent["shop_price_tier"])) < 0.3
    # The hidden profile follows quality: worse shops have more defects and slower everything.
    for name in ("shop_defect_rate", "shop_pickup_delay_hours", "shop_carrier_days", "shop_aftersales_hours"):
        assert _spearman(quality, latent[name]) < -0.7, name
    # The demo good shop is excellent and the demo poor shop is poor.
    assert quality[0] > 0.9 and quality[1] < 0.1
    assert latent["shop_defect_rate"][1] > 5 * latent["shop_defect_rate"][0]


def test_demo_logins_work_through_the_api(database: Database, client, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    build_world(
        database, WorldSpec(scale=Scale.tiny, seed=3), progress=False, world_dir=tmp_path, simulate_days=False
    )
    for login in demo_logins():
        assert login.password == DEMO_PASSWORD
        response = client.post("/api/auth/login", json={"email": login.email, "password": login.password})
        assert response.status_code == 200, (login.role, response.text)
    wrong = client.post(
        "/api/auth/login", json={"email": demo_logins()[0].email, "password": "not the password"}
    )
    assert wrong.status_code == 401


def test_spec_is_validated() -> None:
    with pytest.raises(ValueError):
        WorldSpec(scale="huge")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        WorldSpec(days=0)
    with pytest.raises(ValueError):
        WorldSpec(seed=-1)
    assert WorldSpec(scale="medium", seed=3).key == "3-medium"  # type: ignore[arg-type]
