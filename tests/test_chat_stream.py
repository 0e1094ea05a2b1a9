"""The chat streams across two API workers on one Redis: a message posted through worker A reaches
the other side's stream on worker B within a second, a reconnecting stream first gets what it
missed (Last-Event-ID), and the badge stream tells the shopper their new unread total."""

from __future__ import annotations

import os
import queue
import time
from pathlib import Path

import httpx

from tests.factories import add_staff, make_shop, make_user
from tests.realtime_helpers import REDIS_URL, SSEReader
from tests.test_realtime_live import _api_workers, _worker_url
from zhongcao.shops.models import StaffRole
from zhongcao.support import service as support
from zhongcao.users import service as users_service
from zhongcao.users.models import TokenKind

WITHIN_SECONDS = 1.0


class CookieSSEReader(SSEReader):
    """An ``SSEReader`` signed in with a session cookie, sending ``Last-Event-ID``."""

    def __init__(self, url: str, session: str, last_event_id: str = "") -> None:
        headers = {"Cookie": f"zc_session={session}"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        super().__init__(url, headers)

    def none_of(self, kind: str, wait: float) -> bool:
        deadline = time.monotonic() + wait
        while (left := deadline - time.monotonic()) > 0:
            try:
                if self.events.get(timeout=left).event == kind:
                    return False
            except queue.Empty:
                break
        return True


def test_a_message_through_one_worker_reaches_the_other_side_on_the_other_worker(
    db, database, redis_prefix, tmp_path
):
    bundle = make_shop(db)
    buyer = make_user(db)
    agent = add_staff(db, bundle.shop, StaffRole.service_agent)
    convo, first = support.start_conversation(db, user_id=buyer.id, shop_id=bundle.shop.id, message="在吗")
    buyer_session, _ = users_service.issue_token(db, buyer, kind=TokenKind.session, name="test")
    agent_session, _ = users_service.issue_token(db, agent, kind=TokenKind.session, name="test")
    agent_api, _ = users_service.issue_token(db, agent, kind=TokenKind.api, name="test")
    buyer_api, _ = users_service.issue_token(db, buyer, kind=TokenKind.api, name="test")
    db.commit()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            [str(Path(__file__).parent.parent / "src"), os.environ.get("PYTHONPATH", "")]
        ),
        "ZHONGCAO_DATABASE_URL": _worker_url(database),
        "ZHONGCAO_REDIS_URL": REDIS_URL,
        "ZHONGCAO_REDIS_PREFIX": redis_prefix,
    }
    with _api_workers(env, [tmp_path / "a.log", tmp_path / "b.log"]) as (a, b):
        shopper_url = f"{b}/messages/{convo.id}/events?after={first.id}"
        agent_url = f"{b}/merchant/inbox/{convo.id}/events?after={first.id}"
        with (
            CookieSSEReader(shopper_url, buyer_session) as shopper,
            CookieSSEReader(agent_url, agent_session) as shop,
            CookieSSEReader(f"{b}/messages/events", buyer_session) as badge,
        ):
            for stream in (shopper, shop, badge):
                stream.next("unread")  # subscribed: the first thing a stream sends
            # A worker's first request pays its lazy set-up (seconds on a loaded machine): warm A
            # with both callers so that the timing below is the message's, not the first request's.
            for token in (agent_api, buyer_api):
                warm = httpx.get(f"{a}/api/me", headers={"Authorization": f"Bearer {token}"}, timeout=30)
                assert warm.status_code == 200, warm.text
            posted_at = time.monotonic()
            r = httpx.post(
                f"{a}/api/merchant/support/conversations/{convo.id}/messages",
                json={"body": "<b>在的</b>"},
                headers={"Authorization": f"Bearer {agent_api}"},
                timeout=15,
            )
            assert r.status_code == 201, r.text
            got = shopper.next("message", timeout=5)
            assert got.data["body"] == "<b>在的</b>" and got.data["id"] == r.json()["id"]
            assert got.at - posted_at < WITHIN_SECONDS, f"{got.at - posted_at:.3f} s"
            assert badge.next("unread", timeout=5).data["total"] == 1
            assert shop.next("message", timeout=5).data["sender"] == "agent"  # the agent's other tabs too

            # The shopper answers through worker A; the agent's stream on B hears it.
            posted_at = time.monotonic()
            r = httpx.post(
                f"{a}/api/support/conversations/{convo.id}/messages",
                json={"body": "好的"},
                headers={"Authorization": f"Bearer {buyer_api}"},
                timeout=15,
            )
            got = shop.next("message", timeout=5)
            assert got.data["body"] == "好的" and got.at - posted_at < WITHIN_SECONDS

        # Reconnecting with the last id seen: the stream first sends what was missed, in order.
        with CookieSSEReader(f"{a}/messages/{convo.id}/events", buyer_session, str(first.id)) as again:
            bodies = [again.next("message", timeout=5).data["body"] for _ in range(2)]
            assert bodies == ["<b>在的</b>", "好的"]
            assert again.none_of("message", 0.5)
        # Someone else's conversation: no stream.
        other = make_user(db)
        other_session, _ = users_service.issue_token(db, other, kind=TokenKind.session, name="test")
        db.commit()
        r = httpx.get(
            f"{a}/messages/{convo.id}/events", headers={"Cookie": f"zc_session={other_session}"}, timeout=15
        )
        assert r.status_code == 404
