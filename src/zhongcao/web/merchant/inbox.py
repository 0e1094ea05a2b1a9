"""The customer-service inbox: conversations with unread counts, filters (open / closed /
unanswered; mine / unassigned), one conversation in real time with assignment, quick replies and
product or order cards, and the first human response time the experience score reads.

Progressive enhancement: every action is a form post; with JavaScript (js/chat.js) the page
listens to its Server-Sent Events (web/chat_stream.py), shows new messages without a reload, sends
without one, and a quick reply drops into the reply box.
"""

from datetime import UTC
from typing import Annotated, Any

from anyio import to_thread
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from zhongcao.catalog import service as catalog_service
from zhongcao.errors import DomainError, NotFound
from zhongcao.experience import indicators
from zhongcao.fields import MAX_ID
from zhongcao.pagination import PageParams
from zhongcao.realtime.service import chat_channel, shop_channel
from zhongcao.shops import service as shops_service
from zhongcao.support import chat as chat_service
from zhongcao.support import service as support_service
from zhongcao.support.models import CardKind, Conversation, Message
from zhongcao.support.service import AssigneeFilter, InboxFilter
from zhongcao.users import service as users_service
from zhongcao.users.models import Role
from zhongcao.web.chat_cards import load_cards, mark_read, message_names
from zhongcao.web.chat_stream import (
    badge_cache,
    catch_up_reader,
    chat_events,
    event_stream,
    last_event_id,
    stream_lifetime,
)
from zhongcao.web.console import Console, CursorQuery, IdPath, MerchantConsole, page_of
from zhongcao.web.context import FormData, session_token
from zhongcao.web.forms import Form, error_message
from zhongcao.web.templating import render_template

router = APIRouter(prefix="/merchant")
PRODUCT_CHOICES = 50


def counts_for_score(conversation: Conversation) -> bool:
    """Whether the experience score counts this conversation's first response: started in the
    hours shops are expected to staff their inbox (experience.indicators)."""
    started = conversation.started_at
    if started.tzinfo is None:
        started = started.replace(tzinfo=UTC)
    return started.astimezone(indicators.CHINA).hour in indicators.CS_HOURS


@router.get("/inbox")
def inbox(
    console: MerchantConsole,
    filter: Annotated[str, Query(max_length=20)] = "",
    assignee: Annotated[str, Query(max_length=20)] = "",
    cursor: CursorQuery = None,
) -> Response:
    db, shop_id = console.db, console.shop_id
    assert shop_id is not None
    # Everything unless one of the service's filters is asked for (an unknown one shows everything).
    status = InboxFilter(filter) if filter in InboxFilter.__members__ else None
    whose = AssigneeFilter(assignee) if assignee in AssigneeFilter.__members__ else None
    rows, next_cursor = page_of(
        lambda p: support_service.list_shop_conversations(
            db, shop_id, p, status=status, assignee=whose, agent_user_id=console.user_id
        ),
        cursor,
    )
    people = users_service.users_by_ids(
        db, {c.user_id for c in rows} | {c.assignee_user_id for c in rows if c.assignee_user_id}
    )
    unread = chat_service.shop_unread(db, [c.id for c in rows])
    query = "&".join(f"{k}={v}" for k, v in (("filter", status), ("assignee", whose)) if v)
    return console.render(
        "merchant/inbox.html",
        "inbox",
        conversations=[
            (c, people.get(c.user_id), support_service.first_response_seconds(c), unread.get(c.id, 0))
            for c in rows
        ],
        people=people,
        filter=status.value if status else "",
        filters=[f.value for f in InboxFilter],
        assignee=whose.value if whose else "",
        assignees=[a.value for a in AssigneeFilter],
        query=query,
        next_cursor=next_cursor,
        reply_seconds=indicators.CS_REPLY_SECONDS,
    )


def _thread(console: Console, conversation: Conversation, messages: list[Message]) -> dict[str, Any]:
    people = users_service.users_by_ids(
        console.db,
        {conversation.user_id}
        | {m.agent_user_id for m in messages if m.agent_user_id}
        | ({conversation.assignee_user_id} if conversation.assignee_user_id else set()),
    )
    customer = people.get(conversation.user_id)
    names = message_names(
        messages,
        viewer="shop",
        t=console.t,
        customer_name=customer.display_name if customer else "#",
        shop_name=console.title,
        agent_names={uid: u.display_name for uid, u in people.items()},
    )
    return {
        "people": people,
        "customer": customer,
        "names": names,
        "cards": load_cards(console.db, conversation, messages),
    }


def _render_conversation(
    console: Console, conversation_id: int, form: Form | None, status_code: int = 200
) -> Response:
    assert console.shop_id is not None
    db = console.db
    conversation = support_service.get_shop_conversation(db, console.shop_id, conversation_id)
    mark_read(console.db, console.page.request.app.state.database, conversation, "shop")
    messages = support_service.conversation_messages(db, conversation.id)
    staff_ids = shops_service.staff_user_ids(db, console.shop_id)
    staff = users_service.users_by_ids(db, staff_ids)
    products, _ = catalog_service.list_shop_products(db, console.shop_id, PageParams(limit=PRODUCT_CHOICES))
    order_ids = sorted(
        ({conversation.order_id} if conversation.order_id else set())
        | {m.card_ref_id for m in messages if m.card_kind == CardKind.order and m.card_ref_id}
    )
    return console.render(
        "merchant/conversation.html",
        "inbox",
        status_code=status_code,
        conversation=conversation,
        messages=messages,
        first_response=support_service.first_response_seconds(conversation),
        counts_for_score=counts_for_score(conversation),
        reply_seconds=indicators.CS_REPLY_SECONDS,
        staff=[(uid, staff[uid].display_name) for uid in staff_ids if uid in staff],
        quick_replies=chat_service.list_quick_replies(db, console.shop_id),
        products=products,
        order_ids=order_ids,
        form=form,
        typed=form.values if form is not None else {},
        after=messages[-1].id if messages else 0,
        **_thread(console, conversation, messages),
    )


@router.get("/inbox/events")
async def inbox_events(request: Request) -> StreamingResponse:
    """The shop's unread total, pushed whenever one of its conversations changes (the nav badge and
    the inbox list)."""
    shop_id = await to_thread.run_sync(_stream_shop, request, None)
    body = chat_events(
        request.app.state.realtime,
        [shop_channel(shop_id)],
        after=0,
        catch_up=None,
        unread_total=_unread(request, shop_id),
        badges=badge_cache(request.app),
        badge_key=f"shop:{shop_id}",
        stream_seconds=stream_lifetime(request.app),
    )
    return event_stream(body)


@router.get("/inbox/{conversation_id}")
def conversation(console: MerchantConsole, conversation_id: IdPath) -> Response:
    return _render_conversation(console, conversation_id, None)


def _refused(console: Console, conversation_id: int, form: Form, exc: DomainError) -> Response:
    console.db.rollback()
    if exc.status_code == 404 and exc.code == "conversation_not_found":
        raise exc
    form.add_domain_error(exc)
    return _render_conversation(console, conversation_id, form, status_code=exc.status_code)


@router.post("/inbox/{conversation_id}")
def reply(console: MerchantConsole, conversation_id: IdPath, data: FormData) -> Response:
    """A reply typed (or a quick reply picked without JavaScript), optionally with a card."""
    assert console.shop_id is not None
    form = Form(data, console.t)
    body = form.text("body", max_length=support_service.MESSAGE_MAX)
    quick = form.integer("quick_reply_id", minimum=1, maximum=MAX_ID)
    card_kind = form.choice("card_kind", [k.value for k in CardKind], required=False)
    card_id = form.integer("card_id", minimum=1, maximum=MAX_ID)
    card = (CardKind(card_kind), card_id) if card_kind and card_id else None
    try:
        if not body and quick is not None:
            body = chat_service.get_quick_reply(console.db, console.shop_id, quick).body
    except DomainError as exc:
        return _refused(console, conversation_id, form, exc)
    if not body and card is None:
        form.error("body", console.t("form.required"))
    if not form.ok:
        return _render_conversation(console, conversation_id, form, status_code=422)
    try:
        support_service.post_agent_message(
            console.db,
            conversation_id,
            shop_id=console.shop_id,
            agent_user_id=console.user_id,
            body=body,
            card=card,
        )
    except DomainError as exc:
        return _refused(console, conversation_id, form, exc)
    if data.get("js") == "1":  # sent by js/chat.js: the stream brings the message back
        return Response(status_code=204)
    return console.redirect(f"/merchant/inbox/{conversation_id}#latest", flash="merchant.inbox.sent")


@router.post("/inbox/{conversation_id}/assign")
def assign(console: MerchantConsole, conversation_id: IdPath, data: FormData) -> Response:
    """``assignee``: a staff member's user id, ``me``, or empty for unassigned."""
    assert console.shop_id is not None
    form = Form(data, console.t)
    raw = form.text("assignee", max_length=20)
    if raw == "me":
        assignee: int | None = console.user_id
    else:
        assignee = form.integer("assignee", minimum=1, maximum=MAX_ID)
    if not form.ok:
        return _render_conversation(console, conversation_id, form, status_code=422)
    try:
        chat_service.assign(console.db, console.shop_id, conversation_id, assignee)
    except DomainError as exc:
        return _refused(console, conversation_id, form, exc)
    return console.redirect(f"/merchant/inbox/{conversation_id}", flash="chat.assigned")


@router.post("/inbox/{conversation_id}/close")
def close(console: MerchantConsole, conversation_id: IdPath, _: FormData) -> Response:
    assert console.shop_id is not None
    try:
        support_service.close_conversation(console.db, conversation_id, shop_id=console.shop_id)
    except DomainError as exc:
        console.db.rollback()
        if exc.status_code == 404:
            raise
        refusal = Form({}, console.t)
        refusal.message = error_message(console.t, exc)
        return _render_conversation(console, conversation_id, refusal, status_code=exc.status_code)
    return console.redirect(f"/merchant/inbox/{conversation_id}", flash="merchant.inbox.closed")


@router.get("/inbox/{conversation_id}/thread")
def thread_after(
    console: MerchantConsole, conversation_id: IdPath, after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0
) -> Response:
    """The messages after ``after``, rendered (for js/chat.js); the shop has now seen them."""
    assert console.shop_id is not None
    conversation = support_service.get_shop_conversation(console.db, console.shop_id, conversation_id)
    messages = chat_service.messages_after(console.db, conversation.id, after)
    mark_read(console.db, console.page.request.app.state.database, conversation, "shop")
    html = render_template(
        "chat/_fragment.html",
        page=console.page,
        messages=messages,
        viewer="shop",
        **_thread(console, conversation, messages),
    )
    return HTMLResponse(html)


# --- streams -------------------------------------------------------------------------------------------


def _stream_shop(request: Request, conversation_id: int | None) -> int:
    """The shop of the signed-in merchant (and the conversation must be the shop's): else 404."""
    with request.app.state.database.session(read_only=True) as db:
        token = session_token(request)
        user = users_service.user_for_token(db, token) if token else None
        membership = (
            shops_service.membership_for_user(db, user.id)
            if user is not None and user.role is Role.merchant
            else None
        )
        if membership is None:
            raise NotFound("not found", code="not_found")
        if conversation_id is not None:
            support_service.get_shop_conversation(db, membership.shop_id, conversation_id)
        return membership.shop_id


def _unread(request: Request, shop_id: int) -> Any:
    def total() -> int:
        with request.app.state.database.read_connection() as db:
            return chat_service.shop_unread_total(db, shop_id)

    return total


@router.get("/inbox/{conversation_id}/events")
async def conversation_events(
    request: Request, conversation_id: IdPath, after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0
) -> StreamingResponse:
    """One conversation's Server-Sent Events for the shop's staff (web/chat_stream.py)."""
    shop_id = await to_thread.run_sync(_stream_shop, request, conversation_id)
    body = chat_events(
        request.app.state.realtime,
        [chat_channel(conversation_id), shop_channel(shop_id)],
        after=last_event_id(request, after),
        catch_up=catch_up_reader(request.app.state.database, conversation_id),
        unread_total=_unread(request, shop_id),
        badges=badge_cache(request.app),
        badge_key=f"shop:{shop_id}",
        stream_seconds=stream_lifetime(request.app),
    )
    return event_stream(body)
