"""Feed policies by name (``simulate(..., feed_policy="trained")``, ``zhongcao world compare``).

Above both :mod:`zhongcao.feed.policy` (what a policy is, and the simple ones) and
:mod:`zhongcao.feed.trained_policy` (the real feed model, which builds on them), so naming the trained
feed here closes no import loop.
"""

from __future__ import annotations

from collections.abc import Callable

from zhongcao.feed.policy import ExperienceAwareFeed, FeedPolicy, GmvFeed, PopularFollowedFeed


def _trained_feed() -> FeedPolicy:
    # Imported when asked for, not to hide a loop (trained_policy does not import this module): the
    # trained feed brings the serving stack (LightGBM, the ANN index, about 0.4 s to import), which a
    # simulation of the simple policies never needs.
    from zhongcao.feed.trained_policy import TrainedFeed

    return TrainedFeed()


POLICIES: dict[str, Callable[[], FeedPolicy]] = {
    PopularFollowedFeed.name: PopularFollowedFeed,
    GmvFeed.name: GmvFeed,
    ExperienceAwareFeed.name: ExperienceAwareFeed,
    "trained": _trained_feed,  # the real feed model (feed/trained_policy.py)
}


def get_policy(name: str) -> FeedPolicy:
    """A new feed policy by its registered name."""
    try:
        return POLICIES[name]()
    except KeyError:
        raise ValueError(f"unknown feed policy {name!r}; known: {', '.join(sorted(POLICIES))}") from None
