"""POST /api/events: a signed-in client's batch of behaviour events."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, status

from zhongcao import clock
from zhongcao.deps import CurrentUser, DbSession
from zhongcao.events import service
from zhongcao.events.rate_limit import EventBudget
from zhongcao.events.schemas import EventBatchIn, EventBatchOut
from zhongcao.events.store import EventStore
from zhongcao.integrity import velocity
from zhongcao.integrity.velocity import VelocityCheck

router = APIRouter(tags=["events"])


def app_store(app: Any) -> EventStore:
    """The app's event store: app.state.event_store when tests (or embedders) set one, else the
    configured store."""
    store = getattr(app.state, "event_store", None)
    if store is None:
        store = service.get_store(app.state.settings, app.state.database)
    return store


def _budget(request: Request) -> EventBudget:
    budget: EventBudget | None = getattr(request.app.state, "event_budget", None)
    if budget is None:  # made on first use: one per app (and so per worker process)
        budget = request.app.state.event_budget = EventBudget.from_settings(request.app.state.settings)
    return budget


def _velocity(request: Request) -> VelocityCheck:
    check: VelocityCheck | None = getattr(request.app.state, "integrity_velocity", None)
    if check is None:  # made on first use, like the budget
        state = request.app.state
        check = state.integrity_velocity = velocity.from_settings(state.settings)
    return check


def _targets(body: EventBatchIn, action: str) -> list[int]:
    """The batch's targets of one action (cited by a velocity flag's evidence)."""
    column = "account_id" if action == "follow" else "content_id"
    return [t for e in body.events if e.type == action and (t := getattr(e, column)) is not None]


def _store(request: Request) -> EventStore:
    return app_store(request.app)


@router.post("/api/events", status_code=status.HTTP_202_ACCEPTED, response_model=EventBatchOut)
def post_events(body: EventBatchIn, request: Request, user: CurrentUser, db: DbSession) -> EventBatchOut:
    """Store up to 500 events of the caller. 202 means durable; a replayed event_id is accepted
    again and still counted once by analytics. Each user may post ``ZHONGCAO_EVENTS_PER_USER_PER_MINUTE``
    events a minute (429 with Retry-After past it); past ``ZHONGCAO_INTEGRITY_VELOCITY_PER_MINUTE`` likes,
    follows, comments or plays a minute the account is flagged for bought engagement (stored, not
    counted)."""
    _budget(request).spend(user.id, len(body.events))
    accepted = service.ingest_for_user(_store(request), user.id, body.events)
    # Stored first (nothing is dropped), then counted: an account past a velocity limit is flagged.
    breaches = _velocity(request).check(
        user.id, [e.type for e in body.events], lambda action: _targets(body, action)
    )
    if breaches:
        velocity.record_breaches(db, request.app.state.settings, user.id, breaches)
    return EventBatchOut(accepted=accepted, received_at=clock.now())
