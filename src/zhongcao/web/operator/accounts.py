"""The operator's shop and user management: search shops, open one, warn it, suspend its campaign
registration, suspend it, restore it; search users, disable one (its sessions end, sign-in is
refused), restore it. Every action needs a reason (the merchant or user is shown it) and is written
to the audit log with the state before and after, through the same service calls as
``POST /api/ops/shops/{id}/actions`` and ``POST /api/ops/users/{id}/disable|restore``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from zhongcao.audit import service as audit_service
from zhongcao.experience import scores as experience_scores
from zhongcao.pagination import PageParams
from zhongcao.shops import sanctions as shop_sanctions
from zhongcao.shops import service as shops_service
from zhongcao.shops.models import Shop, ShopStatus
from zhongcao.users import sanctions as user_sanctions
from zhongcao.users import service as users_service
from zhongcao.users.models import Role
from zhongcao.web.console import Console, CursorQuery, IdPath, OperatorConsole, page_of
from zhongcao.web.context import FormData
from zhongcao.web.forms import Form
from zhongcao.web.operator.disputes import read_reason

router = APIRouter(prefix="/operator")

SHOPS = "/operator/shops"
USERS = "/operator/users"
SANCTIONS = ("suspended", "campaigns", "any")
ROLES = [r.value for r in Role]
SearchQuery = Annotated[str | None, Query(max_length=80)]


def _query(**params: object) -> str:
    pairs = [f"{k}={v}" for k, v in params.items() if v not in (None, "")]
    return ("?" + "&".join(pairs)) if pairs else ""


# --- shops -----------------------------------------------------------------------------------------


@router.get("/shops")
def shops(
    console: OperatorConsole,
    q: SearchQuery = None,
    sanction: Annotated[str | None, Query(max_length=20)] = None,
    cursor: CursorQuery = None,
) -> Response:
    db = console.db
    text = (q or "").strip()
    picked = sanction if sanction in SANCTIONS else ""

    def fetch(params: PageParams) -> tuple[Sequence[Shop], str | None]:
        return shop_sanctions.search_shops(
            db,
            params,
            q=text,
            status=ShopStatus.suspended if picked == "suspended" else None,
            campaigns_suspended=True if picked == "campaigns" else None,
            sanctioned=True if picked == "any" else None,
        )

    rows, next_cursor = page_of(fetch, cursor)
    return console.render(
        "operator/shops.html",
        "shops",
        rows=rows,
        next_cursor=next_cursor,
        scores=experience_scores.current_scores(db, [s.id for s in rows]),
        q=text,
        sanction=picked,
        sanctions=SANCTIONS,
        filtered=bool(text or picked),
        base=SHOPS + _query(q=text, sanction=picked),
    )


def _render_shop(console: Console, shop_id: int, form: Form | None, status_code: int = 200) -> Response:
    db = console.db
    shop = shops_service.get_shop(db, shop_id)
    return console.render(
        "operator/shop.html",
        "shops",
        status_code=status_code,
        shop=shop,
        score=experience_scores.current_scores(db, [shop.id]).get(shop.id),
        owners=users_service.users_by_ids(db, shops_service.staff_user_ids(db, shop.id)),
        history=list(reversed(audit_service.entries_for(db, "shop", shop.id))),
        actions=_shop_actions(shop),
        form=form,
        typed=form.values if form is not None else {},
    )


def _shop_actions(shop: Any) -> list[str]:
    """What an operator may do to the shop now (a suspension already in force is not offered again)."""
    suspended = shop.status is ShopStatus.suspended
    campaigns = shop.campaign_registration_suspended
    actions = ["warn"]
    if not campaigns and not suspended:
        actions.append("suspend_campaigns")
    if not suspended:
        actions.append("suspend")
    if suspended or campaigns:
        actions.append("restore")
    return actions


@router.get("/shops/{shop_id}")
def shop(console: OperatorConsole, shop_id: IdPath) -> Response:
    return _render_shop(console, shop_id, None)


@router.post("/shops/{shop_id}")
def act_on_shop(console: OperatorConsole, shop_id: IdPath, data: FormData) -> Response:
    form = Form(data, console.t)
    action = form.choice("action", list(shop_sanctions.ACTIONS))
    reason = read_reason(form)
    if not form.ok or action is None:
        return _render_shop(console, shop_id, form, status_code=422)
    return console.decide(
        form,
        lambda: shop_sanctions.act(console.db, shop_id, action, reason=reason, actor_user_id=console.user_id),
        refused=lambda f, code: _render_shop(console, shop_id, f, status_code=code),
        done=f"{SHOPS}/{shop_id}",
        flash=f"workbench.shop.done.{action}",
    )


# --- users -----------------------------------------------------------------------------------------


@router.get("/users")
def users(
    console: OperatorConsole,
    q: SearchQuery = None,
    role: Annotated[str | None, Query(max_length=20)] = None,
    state: Annotated[str | None, Query(max_length=20)] = None,
    cursor: CursorQuery = None,
) -> Response:
    db = console.db
    text = (q or "").strip()
    wanted = Role(role) if role in ROLES else None
    disabled = True if state == "disabled" else None
    rows, next_cursor = page_of(
        lambda p: user_sanctions.search_users(db, p, q=text, role=wanted, disabled=disabled), cursor
    )
    return console.render(
        "operator/users.html",
        "users",
        rows=rows,
        next_cursor=next_cursor,
        q=text,
        role=wanted.value if wanted else "",
        roles=ROLES,
        state="disabled" if disabled else "",
        filtered=bool(text or wanted or disabled),
        base=USERS
        + _query(q=text, role=wanted.value if wanted else "", state="disabled" if disabled else ""),
    )


def _render_user(console: Console, user_id: int, form: Form | None, status_code: int = 200) -> Response:
    db = console.db
    user = users_service.get_user(db, user_id)
    return console.render(
        "operator/user.html",
        "users",
        status_code=status_code,
        user=user,
        history=list(reversed(audit_service.entries_for(db, "user", user.id))),
        is_self=user.id == console.user_id,
        form=form,
        typed=form.values if form is not None else {},
    )


@router.get("/users/{user_id}")
def user(console: OperatorConsole, user_id: IdPath) -> Response:
    return _render_user(console, user_id, None)


@router.post("/users/{user_id}")
def act_on_user(console: OperatorConsole, user_id: IdPath, data: FormData) -> Response:
    form = Form(data, console.t)
    action = form.choice("action", ["disable", "restore"])
    reason = read_reason(form)
    if not form.ok or action is None:
        return _render_user(console, user_id, form, status_code=422)
    return console.decide(
        form,
        lambda: user_sanctions.set_active(
            console.db, user_id, action == "restore", reason=reason, actor_user_id=console.user_id
        ),
        refused=lambda f, code: _render_user(console, user_id, f, status_code=code),
        done=f"{USERS}/{user_id}",
        flash=f"workbench.user.done.{action}",
    )
