"""The customer-service inbox."""

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from zhongcao.errors import DomainError
from zhongcao.support import service as support_service
from zhongcao.support.service import InboxFilter
from zhongcao.users import service as users_service
from zhongcao.web.console import (
    Console,
    CursorQuery,
    IdPath,
    MerchantConsole,
    page_of,
)
from zhongcao.web.context import FormData
from zhongcao.web.forms import Form, error_message

router = APIRouter(prefix="/merchant")


@router.get("/inbox")
def inbox(
    console: MerchantConsole,
    filter: Annotated[str, Query(max_length=20)] = "",
    cursor: CursorQuery = None,
) -> Response:
    db, shop_id = console.db, console.shop_id
    assert shop_id is not None
    # Everything unless one of the service's filters is asked for (an unknown one shows everything).
    status = InboxFilter(filter) if filter in InboxFilter.__members__ else None
    rows, next_cursor = page_of(
        lambda p: support_service.list_shop_conversations(db, shop_id, p, status=status), cursor
    )
    people = users_service.users_by_ids(db, {c.user_id for c in rows})
    return console.render(
        "merchant/inbox.html",
        "inbox",
        conversations=[(c, people.get(c.user_id), support_service.first_response_seconds(c)) for c in rows],
        filter=status.value if status else "",
        filters=[f.value for f in InboxFilter],
        next_cursor=next_cursor,
    )


def _render_conversation(
    console: Console, conversation_id: int, form: Form | None, status_code: int = 200
) -> Response:
    assert console.shop_id is not None
    conversation = support_service.get_shop_conversation(console.db, console.shop_id, conversation_id)
    messages = support_service.conversation_messages(console.db, conversation.id)
    people = users_service.users_by_ids(
        console.db, {conversation.user_id} | {m.agent_user_id for m in messages if m.agent_user_id}
    )
    return console.render(
        "merchant/conversation.html",
        "inbox",
        status_code=status_code,
        conversation=conversation,
        messages=messages,
        people=people,
        first_response=support_service.first_response_seconds(conversation),
        form=form,
        typed=form.values if form is not None else {},
    )


@router.get("/inbox/{conversation_id}")
def conversation(console: MerchantConsole, conversation_id: IdPath) -> Response:
    return _render_conversation(console, conversation_id, None)


@router.post("/inbox/{conversation_id}")
def reply(console: MerchantConsole, conversation_id: IdPath, data: FormData) -> Response:
    assert console.shop_id is not None
    form = Form(data, console.t)
    body = form.text("body", required=True, max_length=support_service.MESSAGE_MAX)
    if not form.ok:
        return _render_conversation(console, conversation_id, form, status_code=422)
    try:
        support_service.post_agent_message(
            console.db, conversation_id, shop_id=console.shop_id, agent_user_id=console.user_id, body=body
        )
    except DomainError as exc:
        console.db.rollback()
        if exc.status_code == 404:
            raise
        form.add_domain_error(exc)
        return _render_conversation(console, conversation_id, form, status_code=exc.status_code)
    return console.redirect(f"/merchant/inbox/{conversation_id}#latest", flash="merchant.inbox.sent")


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


# --- Compass -----------------------------------------------------------------------------------------
