"""What the chat pages of both sides show of a conversation: the product and order cards its
messages carry, read in a few queries, and who wrote what."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from zhongcao.catalog import service as catalog_service
from zhongcao.commerce import service as commerce_service
from zhongcao.db import Database
from zhongcao.errors import NotFound
from zhongcao.support import chat as support_chat
from zhongcao.support.models import CardKind, Conversation, Message


@dataclass(frozen=True)
class OrderCard:
    id: int
    status: str
    paid_fen: int
    created_at: Any


@dataclass
class Cards:
    products: dict[int, catalog_service.ProductBrief]
    orders: dict[int, OrderCard]


def load_cards(
    db: Session,
    conversation: Conversation,
    messages: Iterable[Message],
    extra: Iterable[tuple[CardKind, int]] = (),
) -> Cards:
    """The cards of ``messages`` (and ``extra``, a card about to be sent) that belong to the
    conversation's shop and customer; a card that does not (or no longer) exist is shown as gone."""
    wanted = [(m.card_kind, m.card_ref_id) for m in messages if m.card_kind and m.card_ref_id]
    wanted += list(extra)
    product_ids = {ref for kind, ref in wanted if kind == CardKind.product}
    products = {
        pid: brief
        for pid, brief in catalog_service.product_briefs(db, product_ids).items()
        if brief.shop_id == conversation.shop_id
    }
    orders: dict[int, OrderCard] = {}
    for kind, ref in wanted:
        if kind != CardKind.order or ref in orders:
            continue
        try:
            order = commerce_service.get_order_for_shop(db, conversation.shop_id, ref)
        except NotFound:
            continue
        if order.user_id == conversation.user_id:
            orders[ref] = OrderCard(order.id, order.status.value, order.paid_fen, order.created_at)
    return Cards(products, orders)


def message_names(
    messages: Iterable[Message],
    *,
    viewer: str,
    t: Any,
    customer_name: str,
    shop_name: str,
    agent_names: dict[int, str],
) -> dict[int, str]:
    """``message id -> who wrote it``, as the viewer ("customer" or "shop") calls them: a shopper
    sees "me" and the shop's name, the shop sees the customer and which agent answered."""
    names: dict[int, str] = {}
    for m in messages:
        if m.sender.value == "customer":
            names[m.id] = t("chat.me") if viewer == "customer" else customer_name
        elif m.sender.value == "bot":
            names[m.id] = t("chat.bot")
        elif viewer == "customer":
            names[m.id] = shop_name
        else:
            names[m.id] = agent_names.get(m.agent_user_id or 0, t("chat.agent"))
    return names


def mark_read(db: Session, database: Database, conversation: Conversation, side: str) -> None:
    """Mark the conversation read by ``side`` ("customer" or "shop") from a page view. A GET runs
    on a read-only session, so there the marker is written in a short session of its own; a POST
    (a refused form shown again) writes on its own session."""

    def write(session: Session, target: Conversation) -> None:
        if side == "customer":
            support_chat.mark_read_by_customer(session, target)
        else:
            support_chat.mark_read_by_shop(session, target)

    if not db.info.get("read_only"):
        write(db, conversation)
        return
    with database.session() as own:
        fresh = own.get(Conversation, conversation.id)
        if fresh is not None:
            write(own, fresh)
