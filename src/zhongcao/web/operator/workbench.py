"""The operator's workbench and the audit log.

* ``/operator/workbench`` -- every queue waiting for an operator with its count, linked to the page
  that works it. The queues are :data:`QUEUES` (``flows.WORKBENCH_QUEUES``, also behind
  ``GET /api/ops/workbench``): a domain with a queue for operators registers its counter there
  (content moderation appeals add theirs), and the workbench shows it with no change here.
* ``/operator/audit`` -- every operator action, newest first, searchable by text, action, target,
  actor (email or id) and date range (China time), paged; as ``GET /api/ops/audit``. Nothing edits it.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from zhongcao import flows
from zhongcao.audit import service as audit_service
from zhongcao.users import service as users_service
from zhongcao.web.console import CursorQuery, OperatorConsole, page_of
from zhongcao.web.templating import DISPLAY_TZ

router = APIRouter(prefix="/operator")

QUEUES = flows.WORKBENCH_QUEUES
# The actions the log's filter offers (any other dotted action can still be typed in the API).
ACTIONS = (
    "after_sale.arbitrate",
    "complaint.resolve",
    "shop.warn",
    "shop.suspend_campaigns",
    "shop.suspend",
    "shop.restore",
    "user.disable",
    "user.restore",
)
TARGETS = ("after_sale", "complaint", "shop", "user")
Text = Annotated[str | None, Query(max_length=200)]


@router.get("/workbench")
def workbench(console: OperatorConsole) -> Response:
    counts = flows.workbench_counts(console.db)
    return console.render(
        "operator/workbench.html", "workbench", queues=counts, waiting=sum(n for _, n in counts)
    )


def _day(raw: str | None) -> date | None:
    try:
        return date.fromisoformat((raw or "").strip()) if raw and raw.strip() else None
    except ValueError:
        return None


def _actor_ids(db: object, raw: str) -> list[int] | None:
    """An actor typed as an id or an email; an unknown one matches nobody (an empty list)."""
    if not raw:
        return None
    if raw.isdigit() and len(raw) < 19:
        return [int(raw)]
    user = users_service.get_by_email(db, raw)  # type: ignore[arg-type]
    return [user.id] if user is not None else []


@router.get("/audit")
def audit(
    console: OperatorConsole,
    q: Text = None,
    action: Annotated[str | None, Query(max_length=60)] = None,
    target: Annotated[str | None, Query(max_length=40)] = None,
    target_id: Annotated[str | None, Query(max_length=20)] = None,
    actor: Annotated[str | None, Query(max_length=254)] = None,
    since: Annotated[str | None, Query(max_length=10)] = None,
    until: Annotated[str | None, Query(max_length=10)] = None,
    cursor: CursorQuery = None,
) -> Response:
    db = console.db
    text = (q or "").strip()
    picked_action = action if action in ACTIONS else ""
    picked_target = target if target in TARGETS else ""
    tid = (
        int(target_id) if target_id and target_id.strip().isdigit() and len(target_id.strip()) < 19 else None
    )
    actor_text = (actor or "").strip()
    actor_ids = _actor_ids(db, actor_text)
    first, last = _day(since), _day(until)
    # Days are China days: from the start of ``since`` to the end of ``until``.
    start = datetime.combine(first, time(), DISPLAY_TZ) if first else None
    end = datetime.combine(last + timedelta(days=1), time(), DISPLAY_TZ) if last else None
    rows, next_cursor = page_of(
        lambda p: audit_service.entries_page(
            db,
            p,
            q=text or None,
            action=picked_action or None,
            target_kind=picked_target or None,
            target_id=tid,
            actor_user_ids=actor_ids,
            since=start,
            until=end,
        ),
        cursor,
    )
    actors = users_service.users_by_ids(db, [r.actor_user_id for r in rows if r.actor_user_id])
    filters = {
        "q": text,
        "action": picked_action,
        "target": picked_target,
        "target_id": tid or "",
        "actor": actor_text,
        "since": first.isoformat() if first else "",
        "until": last.isoformat() if last else "",
    }
    query = "&".join(f"{k}={v}" for k, v in filters.items() if v not in ("", None))
    return console.render(
        "operator/audit.html",
        "audit",
        rows=rows,
        next_cursor=next_cursor,
        actors=actors,
        filters=filters,
        actions=ACTIONS,
        targets=TARGETS,
        filtered=bool(query),
        base="/operator/audit" + (f"?{query}" if query else ""),
    )
