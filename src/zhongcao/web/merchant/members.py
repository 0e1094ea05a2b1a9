"""Members (会员): the shop's programme (on/off, tiers by spend), how members compare with the shop's
other buyers (GMV share, repurchase rate), and the member list with each one's tier."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from zhongcao import flows
from zhongcao.commerce import buyers as commerce_buyers
from zhongcao.errors import DomainError
from zhongcao.membership import service as membership_service
from zhongcao.users import service as users_service
from zhongcao.web.console import Console, CursorQuery, MerchantConsole, page_of, yuan_to_fen
from zhongcao.web.context import FormData
from zhongcao.web.forms import Form

router = APIRouter(prefix="/merchant")
TIER_ROWS = 3  # the form offers three tiers (普通 / 银卡 / 金卡); the API takes up to five


def _render(
    console: Console, cursor: str | None, form: Form | None, status_code: int = 200, tier: int | None = None
) -> Response:
    db, shop_id = console.db, console.shop_id
    assert shop_id is not None
    program = membership_service.get_program(db, shop_id)
    tiers = membership_service.tiers_of(program)
    if tier is not None and not 0 <= tier < len(tiers):
        tier = None  # an unknown tier shows everyone
    if tier is None:
        rows, next_cursor = page_of(lambda p: membership_service.list_members(db, shop_id, p), cursor)
    else:
        # A tier follows spend, which is not stored: keep the members at that tier, then page.
        wanted = tiers[tier]
        rows, next_cursor = page_of(
            lambda p: membership_service.list_members(
                db, shop_id, p, user_ids=_at_tier(db, shop_id, program, wanted.index)
            ),
            cursor,
        )
    totals = commerce_buyers.buyer_totals_for_shop(db, shop_id, [m.user_id for m in rows])
    people = users_service.users_by_ids(db, {m.user_id for m in rows})
    members: list[tuple[Any, Any, int, int, Any]] = []
    for m in rows:
        orders, spend = totals.get(m.user_id, (0, 0))
        members.append((m, people.get(m.user_id), orders, spend, membership_service.tier_for(program, spend)))
    typed = form.values if form is not None else {}
    return console.render(
        "merchant/members.html",
        "members",
        status_code=status_code,
        program=program,
        enabled=bool(program and program.enabled),
        tiers=tiers,
        tier_rows=TIER_ROWS,
        analytics=flows.member_analytics(db, shop_id),
        members=members,
        next_cursor=next_cursor,
        tier=tier,
        form=form,
        typed=typed,
    )


def _at_tier(db: Any, shop_id: int, program: Any, index: int) -> list[int]:
    members = membership_service.member_user_ids(db, shop_id)
    totals = commerce_buyers.buyer_totals_for_shop(db, shop_id, sorted(members))
    return [
        u for u in members if membership_service.tier_for(program, totals.get(u, (0, 0))[1]).index == index
    ]


@router.get("/members")
def members(
    console: MerchantConsole,
    cursor: CursorQuery = None,
    tier: Annotated[int | None, Query(ge=0, le=9)] = None,
) -> Response:
    return _render(console, cursor, None, tier=tier)


@router.post("/members")
def save_programme(console: MerchantConsole, data: FormData) -> Response:
    console.require_manager()
    assert console.shop_id is not None
    form = Form(data, console.t)
    enabled = data.get("enabled") == "on"
    form.values["enabled"] = enabled
    off = form.integer("discount_pct", minimum=0, maximum=30)
    tiers = []
    for i in range(TIER_ROWS):
        name_zh = form.text(f"tier{i}_zh", max_length=20)
        name_en = form.text(f"tier{i}_en", max_length=40)
        fen = 0 if i == 0 else yuan_to_fen(form, f"tier{i}_yuan")
        if not name_zh and not name_en and (i == 0 or fen is None):
            if i == 0:
                form.error("tier0_zh", console.t("form.required"))
            continue  # a blank row: fewer tiers
        if not name_zh:
            form.error(f"tier{i}_zh", console.t("form.required"))
        if not name_en:
            form.error(f"tier{i}_en", console.t("form.required"))
        if fen is None:
            form.error(f"tier{i}_yuan", console.t("form.required"))
        tiers.append({"name_zh": name_zh, "name_en": name_en, "threshold_fen": fen or 0})
    if form.ok:
        try:
            membership_service.configure(
                console.db, console.shop_id, enabled=enabled, tiers=tiers, discount_bps=(off or 0) * 100
            )
            return console.redirect("/merchant/members", flash="members.saved")
        except DomainError as exc:
            console.db.rollback()
            field = str(exc.details.get("field") or "")
            row = field.split(".")[-1] if field.startswith("tiers.") else ""
            form.add_domain_error(exc, {field: f"tier{row}_yuan"} if row else None)
    return _render(console, None, form, status_code=422)
