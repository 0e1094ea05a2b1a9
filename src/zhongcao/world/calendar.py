"""The shopping-festival calendar the demo world's campaigns come from.

A campaign is named after a festival and runs in that festival's sale window of the year, so "618"
runs in June and "双11" in the run-up to 11 November, whatever month is simulated. The calendar has a
sale somewhere in every 30-day stretch of the year (the seasonal sales fill the gaps between the big
festivals), so the simulated month always has a campaign running and usually one coming up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

Text = tuple[str, str]


@dataclass(frozen=True)
class Festival:
    slug: str
    name: Text  # (zh, en)
    # The sale window: from (month, day) to (month, day) inclusive; the end may fall in the next year.
    opens: tuple[int, int]
    closes: tuple[int, int]
    subsidy_per_item_fen: int
    budget_fen: int  # at the small scale; larger worlds scale it with their catalogue


FESTIVALS: tuple[Festival, ...] = (
    Festival("new-year-goods", ("年货节", "New Year Goods Festival"), (1, 8), (2, 5), 800, 8_000_000),
    Festival("womens-day-38", ("38 女神节", "Women's Day Sale"), (2, 26), (3, 8), 500, 5_000_000),
    Festival("spring-refresh", ("春季焕新季", "Spring Refresh Sale"), (3, 25), (4, 15), 300, 3_000_000),
    Festival("love-520", ("520 心动礼", "520 Love Gifts"), (5, 10), (5, 20), 300, 3_000_000),
    Festival("mid-year-618", ("618 年中大促", "618 Mid-Year Sale"), (5, 28), (6, 18), 500, 5_000_000),
    Festival("summer-cool", ("夏日清凉节", "Summer Cool Festival"), (7, 8), (7, 28), 300, 3_000_000),
    Festival("back-to-school", ("开学季", "Back-to-School Sale"), (8, 15), (8, 31), 300, 3_000_000),
    Festival("sale-99", ("99 划算节", "9.9 Bargain Festival"), (9, 1), (9, 9), 300, 3_000_000),
    Festival("national-day", ("国庆好物节", "National Day Sale"), (9, 28), (10, 7), 500, 5_000_000),
    Festival("double-11", ("双11 狂欢节", "Double 11 Festival"), (10, 20), (11, 11), 1000, 10_000_000),
    Festival("double-12", ("双12 年终盛典", "Double 12 Year-End Sale"), (12, 1), (12, 12), 500, 5_000_000),
    Festival("new-year-eve", ("跨年狂欢", "New Year's Eve Sale"), (12, 24), (1, 2), 300, 3_000_000),
)


@dataclass(frozen=True)
class FestivalSale:
    festival: Festival
    year: int
    starts_at: datetime
    ends_at: datetime  # exclusive: the day after the festival's last day

    @property
    def slug(self) -> str:
        return f"{self.festival.slug}-{self.year}"


def _sale(festival: Festival, year: int) -> FestivalSale:
    starts = datetime(year, *festival.opens, tzinfo=UTC)
    end_year = year + 1 if festival.closes < festival.opens else year
    ends = datetime(end_year, *festival.closes, tzinfo=UTC) + timedelta(days=1)
    return FestivalSale(festival, year, starts, ends)


def sales_for(start: datetime, days: int, *, upcoming: int = 1, at_most: int = 2) -> list[FestivalSale]:
    """The festival sales for a world whose simulated period is ``days`` from ``start``: the (at most
    ``at_most`` latest) sales that overlap the period, then the next ``upcoming`` that open after it
    (shops register for those ahead), in date order."""
    end = start + timedelta(days=days)
    sales = sorted(
        (_sale(f, y) for y in (start.year - 1, start.year, start.year + 1) for f in FESTIVALS),
        key=lambda s: s.starts_at,
    )
    overlapping = [s for s in sales if s.starts_at < end and s.ends_at > start][-at_most:]
    later = [s for s in sales if s.starts_at >= end][:upcoming]
    return overlapping + later
