"""The demo shopper's own habits, so that signing in as them shows an order in every state.

Besides what the feed, search, the mall and live rooms lead them to, the demo shopper buys from the two
demo shops on a few days of the month, walks away from one checkout, returns one parcel they changed
their mind about, and never confirms receipt (the platform's auto-completion does, after
``auto_complete_days``). Where each order stands at the end of the month is then the platform's doing:
the shops ship after their own hidden delays, the carriers deliver after theirs, the jobs cancel and
complete. Times are counted back from the end of the simulated period, so the last orders are still
open whatever the period's length.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.random import Generator

from zhongcao.world.demo_accounts import DEMO_SHOPPER, GOOD_SHOP, POOR_SHOP

__all__ = ["DEMO_SHOPPER", "PLAN", "schedule"]

HOUR_US = 3_600_000_000


@dataclass(frozen=True)
class Habit:
    hours_before_end: float
    shop: int  # GOOD_SHOP or POOR_SHOP
    channel: str
    walk_away: bool = False
    change_mind_after_hours: float | None = None  # returns the parcel this long after ordering
    # Bought from one of the demo creator's videos (of ``shop``'s products when it has some): a commission.
    from_creator: bool = False


PLAN: tuple[Habit, ...] = (
    Habit(26 * 24 - 10, GOOD_SHOP, "mall"),  # completed (auto-completed a week after delivery)
    Habit(25 * 24 - 13, GOOD_SHOP, "short_video", from_creator=True),  # the creator's, settled by now
    Habit(21 * 24 - 14, GOOD_SHOP, "shop_page"),  # completed
    Habit(20 * 24 - 4, GOOD_SHOP, "search", walk_away=True),  # cancelled: never paid
    Habit(15 * 24 - 11, GOOD_SHOP, "mall", change_mind_after_hours=5 * 24),  # returned and refunded
    Habit(11 * 24 - 9, POOR_SHOP, "search"),  # from the poor shop: late, maybe faulty
    Habit(10 * 24 - 12, GOOD_SHOP, "short_video", from_creator=True),  # the creator's, not settled yet
    Habit(4 * 24 - 10, GOOD_SHOP, "shop_page"),  # delivered, not yet auto-completed
    Habit(12.0, GOOD_SHOP, "mall"),  # shipped (20:00 China time the evening before), on its way
    Habit(10.0, POOR_SHOP, "shop_page"),  # paid (22:00 China time), the poor shop has not shipped it yet
)


def schedule(
    at: Callable[..., None],
    start_us: int,
    end_us: int,
    product_shop: np.ndarray,
    sellable: np.ndarray,
    rng: Generator,
    creator_videos: Sequence[tuple[int, int]] = (),
) -> int:
    """Push the demo shopper's habits that fall in the period onto the simulation's queue (``at`` is
    :meth:`Market._at`); returns how many. ``creator_videos``: (content id, product index) of the demo
    creator's short videos and the products they anchor."""
    pushed = 0
    for habit in PLAN:
        when = end_us - int(habit.hours_before_end * HOUR_US)
        if when < start_us:
            continue
        content_id = -1
        if habit.from_creator:
            # The creator's video of a product from ``habit.shop`` when there is one (a quick parcel).
            videos = [(c, p) for c, p in creator_videos if sellable[p] and product_shop[p] == habit.shop]
            videos = videos or [(c, p) for c, p in creator_videos if sellable[p]]
            if not videos:
                continue
            content_id, product = videos[int(rng.integers(len(videos)))]
        else:
            pool = np.flatnonzero((product_shop == habit.shop) & sellable)
            if not len(pool):
                continue
            product = int(pool[int(rng.integers(len(pool)))])
        at(when, "place", DEMO_SHOPPER, product, 1, habit.channel, content_id, int(habit.walk_away))
        if habit.change_mind_after_hours is not None:
            at(when + int(habit.change_mind_after_hours * HOUR_US), "change_mind", DEMO_SHOPPER, product)
        pushed += 1
    return pushed


def latest_order(orders: dict[int, Any], user: int, product: int) -> int | None:
    """The user's latest paid order of ``product`` with no after-sales case (None: none)."""
    found = [o for o in orders.values() if o.user == user and o.product == product and o.case_id is None]
    return max(found, key=lambda o: o.paid_us).order_id if found else None
