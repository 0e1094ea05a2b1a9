"""Small builders for test data. They write rows directly so each test states only what it needs."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from sqlalchemy.orm import Session

from zhongcao.catalog.models import Brand, Category, Product, ProductStatus, Sku
from zhongcao.content.models import Account, AccountKind
from zhongcao.shops.models import Shop, ShopStaff, StaffRole
from zhongcao.users import service as users_service
from zhongcao.users.models import Role, TokenKind, User

_seq = itertools.count(1)
PASSWORD = "correct horse battery"


def make_user(db: Session, role: Role = Role.shopper, name: str | None = None) -> User:
    n = next(_seq)
    return users_service.create_user(
        db,
        email=f"{role.value}{n}@example.com",
        password=PASSWORD,
        display_name=name or f"{role.value} {n}",
        role=role,
    )


def token_for(db: Session, user: User) -> str:
    secret, _ = users_service.issue_token(db, user, kind=TokenKind.api, name="test")
    return secret


def auth(db: Session, user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(db, user)}"}


@dataclass
class ShopBundle:
    shop: Shop
    owner: User
    account: Account


def make_shop(
    db: Session, name: str | None = None, *, shipping_fee_fen: int = 0, free_shipping_threshold_fen: int = 0
) -> ShopBundle:
    n = next(_seq)
    shop = Shop(
        name_zh=name or f"店铺{n}",
        name_en=name or f"Shop {n}",
        shipping_fee_fen=shipping_fee_fen,
        free_shipping_threshold_fen=free_shipping_threshold_fen,
    )
    db.add(shop)
    db.flush()
    owner = make_user(db, Role.merchant)
    db.add(ShopStaff(shop_id=shop.id, user_id=owner.id, role=StaffRole.owner))
    account = Account(kind=AccountKind.shop, shop_id=shop.id, handle=f"shop{n}", name=shop.name_zh)
    db.add(account)
    db.commit()
    return ShopBundle(shop=shop, owner=owner, account=account)


def add_staff(db: Session, shop: Shop, role: StaffRole) -> User:
    user = make_user(db, Role.merchant)
    db.add(ShopStaff(shop_id=shop.id, user_id=user.id, role=role))
    db.commit()
    return user


def make_category(db: Session, *, platform_fee_bps: int | None = None) -> Category:
    n = next(_seq)
    top = Category(slug=f"top-{n}", name_zh=f"大类{n}", name_en=f"Top {n}")
    db.add(top)
    db.flush()
    leaf = Category(
        parent_id=top.id,
        slug=f"leaf-{n}",
        name_zh=f"小类{n}",
        name_en=f"Leaf {n}",
        platform_fee_bps=platform_fee_bps,
    )
    db.add(leaf)
    db.commit()
    return leaf


def make_product(
    db: Session,
    shop: Shop,
    *,
    category: Category | None = None,
    price_fen: int = 9900,
    stock: int = 100,
    skus: int = 1,
    brand: Brand | None = None,
) -> Product:
    n = next(_seq)
    category = category or make_category(db)
    product = Product(
        shop_id=shop.id,
        category_id=category.id,
        brand_id=brand.id if brand else None,
        title_zh=f"商品{n}",
        title_en=f"Product {n}",
        status=ProductStatus.active,
    )
    db.add(product)
    db.flush()
    for i in range(skus):
        db.add(
            Sku(
                product_id=product.id,
                code=f"SKU-{n}-{i}",
                attributes={"size": ["S", "M", "L"][i % 3]},
                price_fen=price_fen,
                stock=stock,
            )
        )
    db.commit()
    db.refresh(product)
    return product


def make_creator(db: Session, *, top_kol: bool = False) -> tuple[User, Account]:
    user = make_user(db, Role.creator)
    account = Account(
        kind=AccountKind.creator,
        user_id=user.id,
        handle=f"creator{user.id}",
        name=user.display_name,
        is_top_kol=top_kol,
    )
    db.add(account)
    db.commit()
    return user, account
