"""Messages with shops ("联系客服"): the list of conversations with unread counts, one chat, and the
way in from a product, an order or an after-sales case (which arrives with that card ready to send).

Progressive enhancement: every action is a form post; with JavaScript (js/chat.js) the chat page
listens to its Server-Sent Events (web/chat_stream.py) and shows new messages without a reload.
"""

from __future__ import annotations

from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from zhongcao.errors import DomainError, NotFound
from zhongcao.fields import MAX_ID
from zhongcao.pagination import PageParams
from zhongcao.realtime.service import chat_channel, user_channel
from zhongcao.shops import service as shops_service
from zhongcao.support import chat as chat_service
from zhongcao.support import service as support_service
from zhongcao.support.models import CardKind, Conversation, Message
from zhongcao.support.service import InboxFilter
from zhongcao.users import service as users_service
from zhongcao.web.chat_cards import load_cards, mark_read, message_names
from zhongcao.web.chat_stream import (
    badge_cache,
    catch_up_reader,
    chat_events,
    event_stream,
    last_event_id,
    stream_lifetime,
)
from zhongcao.web.context import FormData, ShopperPage, WebContext, session_token
from zhongcao.web.forms import Form
from zhongcao.web.shopper.common import LIST_PAGE, CursorQuery, IdPath
from zhongcao.web.templating import render_template

router = APIRouter()
OptionalId = Annotated[int | None, Query(ge=1, le=MAX_ID)]


def _shop_name(page: WebContext, shop: Any) -> str:
    return shop.name_en if page.locale == "en" and shop.name_en else shop.name_zh


def _pending_card(product: int | None, order: int | None) -> tuple[CardKind, int] | None:
    if product is not None:
        return (CardKind.product, product)
    if order is not None:
        return (CardKind.order, order)
    return None


@router.get("/messages")
def messages(
    page: ShopperPage, cursor: CursorQuery = None, filter: Annotated[str, Query(max_length=20)] = ""
) -> Response:
    assert page.user is not None
    status = InboxFilter(filter) if filter in ("open", "closed") else None
    try:
        rows, next_cursor = support_service.list_user_conversations(
            page.db, page.user.id, PageParams(limit=LIST_PAGE, cursor=cursor), status=status
        )
    except DomainError:
        rows, next_cursor = support_service.list_user_conversations(
            page.db, page.user.id, PageParams(limit=LIST_PAGE), status=status
        )
    shops = shops_service.shops_by_ids(page.db, {c.shop_id for c in rows})
    unread = chat_service.customer_unread(page.db, [c.id for c in rows])
    newest = chat_service.last_messages(page.db, [c.id for c in rows])
    last = {c.id: [newest[c.id]] if c.id in newest else [] for c in rows}
    return page.render(
        "shopper/messages.html",
        conversations=[
            (
                c,
                _shop_name(page, shops[c.shop_id]) if c.shop_id in shops else "",
                unread.get(c.id, 0),
                last[c.id],
            )
            for c in rows
        ],
        next_cursor=next_cursor,
        filter=status.value if status else "",
    )


@router.get("/messages/events")
async def badge_events(request: Request) -> StreamingResponse:
    """The shopper's unread total, pushed whenever one of their conversations changes."""
    user_id = await to_thread.run_sync(_stream_user, request)
    if user_id is None:
        raise NotFound("not signed in", code="not_found")
    body = chat_events(
        request.app.state.realtime,
        [user_channel(user_id)],
        after=0,
        catch_up=None,
        unread_total=_unread(request, user_id),
        badges=badge_cache(request.app),
        badge_key=f"user:{user_id}",
        stream_seconds=stream_lifetime(request.app),
    )
    return event_stream(body)


@router.get("/messages/new")
def new_message(
    page: ShopperPage,
    shop: Annotated[int, Query(ge=1, le=MAX_ID)],
    product: OptionalId = None,
    order: OptionalId = None,
) -> Response:
    """The way in from a product, order or after-sales page: an open conversation with the shop
    continues (with the card ready to send); otherwise a first message starts one."""
    assert page.user is not None
    existing = chat_service.open_conversation_with(page.db, page.user.id, shop)
    if existing is not None:
        query = f"?product={product}" if product else (f"?order={order}" if order else "")
        return page.redirect(f"/messages/{existing.id}{query}#composer")
    return _render_new(page, shop, _pending_card(product, order), None)


def _render_new(
    page: WebContext,
    shop_id: int,
    card: tuple[CardKind, int] | None,
    form: Form | None,
    status_code: int = 200,
) -> Response:
    shop = shops_service.get_shop(page.db, shop_id)
    draft = Conversation(shop_id=shop.id, user_id=page.user_id)
    cards = load_cards(page.db, draft, [], [card] if card else [])
    return page.render(
        "shopper/chat.html",
        status_code=status_code,
        conversation=None,
        shop=shop,
        shop_name=_shop_name(page, shop),
        messages=[],
        names={},
        cards=cards,
        pending=card if card and _card_ok(cards, card) else None,
        form=form,
        typed=form.values if form is not None else {},
        after=0,
    )


def _card_ok(cards: Any, card: tuple[CardKind, int]) -> bool:
    kind, ref = card
    return ref in (cards.products if kind == CardKind.product else cards.orders)


@router.post("/messages")
def start(page: ShopperPage, data: FormData) -> Response:
    assert page.user is not None
    form = Form(data, page.t)
    shop_id = form.integer("shop_id", required=True, minimum=1, maximum=MAX_ID)
    product_id = form.integer("product_id", minimum=1, maximum=MAX_ID)
    order_id = form.integer("order_id", minimum=1, maximum=MAX_ID)
    body = form.text("body", required=True, max_length=support_service.MESSAGE_MAX)
    if shop_id is None:
        raise NotFound("shop not found", code="shop_not_found")
    card = _pending_card(product_id, order_id)
    if not form.ok:
        return _render_new(page, shop_id, card, form, status_code=422)
    try:
        conversation = chat_service.contact_shop(
            page.db,
            user_id=page.user.id,
            shop_id=shop_id,
            message=body,
            product_id=product_id,
            order_id=order_id,
        )
    except DomainError as exc:
        page.db.rollback()
        if exc.status_code == 404 and exc.code == "shop_not_found":
            raise
        form.add_domain_error(exc, {"message": "body"})
        return _render_new(page, shop_id, card, form, status_code=exc.status_code)
    return page.redirect(f"/messages/{conversation.id}#latest")


def _thread(
    page: WebContext, conversation: Conversation, messages: list[Message], extra: Any = ()
) -> dict[str, Any]:
    shop = shops_service.get_shop(page.db, conversation.shop_id)
    shop_name = _shop_name(page, shop)
    names = message_names(
        messages, viewer="customer", t=page.t, customer_name="", shop_name=shop_name, agent_names={}
    )
    return {
        "shop": shop,
        "shop_name": shop_name,
        "names": names,
        "cards": load_cards(page.db, conversation, messages, extra),
    }


def _render_chat(
    page: WebContext,
    conversation_id: int,
    form: Form | None,
    card: tuple[CardKind, int] | None = None,
    status_code: int = 200,
) -> Response:
    assert page.user is not None
    conversation = support_service.get_user_conversation(page.db, page.user.id, conversation_id)
    mark_read(page.db, page.request.app.state.database, conversation, "customer")
    messages = support_service.conversation_messages(page.db, conversation.id)
    thread = _thread(page, conversation, messages, [card] if card else [])
    return page.render(
        "shopper/chat.html",
        status_code=status_code,
        conversation=conversation,
        messages=messages,
        pending=card if card and _card_ok(thread["cards"], card) else None,
        form=form,
        typed=form.values if form is not None else {},
        after=messages[-1].id if messages else 0,
        **thread,
    )


@router.get("/messages/{conversation_id}")
def conversation(
    page: ShopperPage, conversation_id: IdPath, product: OptionalId = None, order: OptionalId = None
) -> Response:
    return _render_chat(page, conversation_id, None, _pending_card(product, order))


@router.post("/messages/{conversation_id}")
def send(page: ShopperPage, conversation_id: IdPath, data: FormData) -> Response:
    assert page.user is not None
    form = Form(data, page.t)
    body = form.text("body", max_length=support_service.MESSAGE_MAX)
    product_id = form.integer("product_id", minimum=1, maximum=MAX_ID)
    order_id = form.integer("order_id", minimum=1, maximum=MAX_ID)
    card = _pending_card(product_id, order_id)
    if not body and card is None:
        form.error("body", page.t("form.required"))
    if not form.ok:
        return _render_chat(page, conversation_id, form, card, status_code=422)
    try:
        if card is not None:
            support_service.post_customer_message(
                page.db, conversation_id, user_id=page.user.id, body="", card=card
            )
        if body:
            support_service.post_customer_message(page.db, conversation_id, user_id=page.user.id, body=body)
    except DomainError as exc:
        page.db.rollback()
        if exc.status_code == 404 and exc.code == "conversation_not_found":
            raise
        form.add_domain_error(exc)
        return _render_chat(page, conversation_id, form, None, status_code=exc.status_code)
    if data.get("js") == "1":  # sent by js/chat.js: the stream brings the message back
        return Response(status_code=204)
    return page.redirect(f"/messages/{conversation_id}#latest")


@router.get("/messages/{conversation_id}/thread")
def thread_after(
    page: ShopperPage, conversation_id: IdPath, after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0
) -> Response:
    """The messages after ``after``, rendered (for js/chat.js); the shopper has now seen them."""
    assert page.user is not None
    conversation = support_service.get_user_conversation(page.db, page.user.id, conversation_id)
    messages = chat_service.messages_after(page.db, conversation.id, after)
    mark_read(page.db, page.request.app.state.database, conversation, "customer")
    html = render_template(
        "chat/_fragment.html",
        page=page,
        messages=messages,
        viewer="customer",
        **_thread(page, conversation, messages),
    )
    return HTMLResponse(html)


def _stream_user(request: Request) -> int | None:
    database = request.app.state.database
    with database.session(read_only=True) as db:
        token = session_token(request)
        user = users_service.user_for_token(db, token) if token else None
        return user.id if user is not None and user.role.value == "shopper" else None


def _unread(request: Request, user_id: int) -> Any:
    def total() -> int:
        with request.app.state.database.read_connection() as db:
            return chat_service.customer_unread_total(db, user_id)

    return total


@router.get("/messages/{conversation_id}/events")
async def conversation_events(
    request: Request, conversation_id: IdPath, after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0
) -> StreamingResponse:
    """One conversation's Server-Sent Events for its shopper (web/chat_stream.py)."""

    def owner() -> int | None:
        user_id = _stream_user(request)
        if user_id is None:
            return None
        with request.app.state.database.session(read_only=True) as db:
            support_service.get_user_conversation(db, user_id, conversation_id)  # 404 if not theirs
        return user_id

    user_id = await to_thread.run_sync(owner)
    if user_id is None:
        raise NotFound("conversation not found", code="conversation_not_found")
    body = chat_events(
        request.app.state.realtime,
        [chat_channel(conversation_id), user_channel(user_id)],
        after=last_event_id(request, after),
        catch_up=catch_up_reader(request.app.state.database, conversation_id),
        unread_total=_unread(request, user_id),
        badges=badge_cache(request.app),
        badge_key=f"user:{user_id}",
        stream_seconds=stream_lifetime(request.app),
    )
    return event_stream(body)
