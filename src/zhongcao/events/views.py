"""POST /api/events: a signed-in client's batch of behaviour events."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, status

from zhongcao import clock
from zhongcao.deps import CurrentUser
from zhongcao.events import service
from zhongcao.events.schemas import EventBatchIn, EventBatchOut
from zhongcao.events.store import EventStore

router = APIRouter(tags=["events"])


def app_store(app: Any) -> EventStore:
    """The app's event store: app.state.event_store when tests (or embedders) set one, else the
    configured store."""
    store = getattr(app.state, "event_store", None)
    if store is None:
        store = service.get_store(app.state.settings, app.state.database)
    return store


def _store(request: Request) -> EventStore:
    return app_store(request.app)


@router.post("/api/events", status_code=status.HTTP_202_ACCEPTED, response_model=EventBatchOut)
def post_events(body: EventBatchIn, request: Request, user: CurrentUser) -> EventBatchOut:
    """Store up to 500 events of the caller. 202 means durable; a replayed event_id is accepted
    again and still counted once by analytics."""
    accepted = service.ingest_for_user(_store(request), user.id, body.events)
    return EventBatchOut(accepted=accepted, received_at=clock.now())
