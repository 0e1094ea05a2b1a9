"""Every background job of the platform, registered with its schedule.

The business rules (payment timeouts, after-sales deadlines, auto-completion, the nightly scores)
run from ``zhongcao worker``, the one-shot ``zhongcao jobs run`` and the market simulation's end of
day. The rest publish what API workers load, so that no API worker runs anything in the background:
Compass's analytics snapshot, the feed's item-to-item catch-up state, like counts, the integrity flag
set.

Where later jobs go: registered here the same way, calling their domain's service (the warehouse's
fulfilment and receiving, flash-sale order writing, the simulated carrier's ``carrier_updates`` every
minute). The search index follower runs every 0.5 s and its full rebuild every 5 minutes.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from zhongcao import artifacts, clock, flows, integrity_flows
from zhongcao.aftersales import service as aftersales_service
from zhongcao.commerce import service as commerce_service
from zhongcao.compass import likes as compass_likes
from zhongcao.compass.refresher import refresh_snapshot
from zhongcao.experience import computation as experience_computation
from zhongcao.feed import catch_up
from zhongcao.feed import model as feed_model
from zhongcao.feed.event_log import read_window_end
from zhongcao.finance import service as finance_service
from zhongcao.flashsales import service as flashsales_service
from zhongcao.flashsales import writer as flashsales_writer
from zhongcao.jobs.registry import Counts, JobContext, job
from zhongcao.logistics import service as logistics_service
from zhongcao.search import indexing as search_indexing
from zhongcao.users import token_use
from zhongcao.warehouse import fulfilment as warehouse_fulfilment_service
from zhongcao.warehouse import service as warehouse_service

# Payment timeouts are minutes long: checking every 30 s keeps a cancelled checkout's stock back on
# sale within half a minute of its deadline.
PAYMENT_TIMEOUTS_EVERY_S = 30.0
DEADLINES_EVERY_S = 300.0  # after-sales deadlines and auto-completion are days long
SCORES_EVERY_S = 3600.0  # the score batch itself runs at most once per 24 h (``scores_due``)
COMPASS_EVERY_S = 60.0  # rebuilds only once the snapshot is older than analytics_max_age_minutes
SEARCH_FOLLOW_EVERY_S = 0.5  # the search follower keeps the 1-second freshness promise
SEARCH_BUILD_EVERY_S = 300.0  # the full rebuild, a safety net
FEED_CATCH_UP_EVERY_S = 15.0  # publishes only once the newest state is feed_catch_up_seconds old
FEED_CATCH_UP_LAG_S = 30.0  # events arrive a little late: count only those at least this old
LIKE_COUNTS_EVERY_S = 60.0
# Bought engagement is found within ten minutes by the batch layer (the streaming layer flags a
# script's burst at once).
INTEGRITY_SCAN_EVERY_S = 600.0
# The platform warehouse: a paid order's pick starts within 30 s; receiving is a day-long wait.
WAREHOUSE_FULFILMENT_EVERY_S = 30.0
WAREHOUSE_RECEIVING_EVERY_S = 60.0
# A flash-sale buyer waits "in queue" until the writer has written their order: a few tenths of a second.
FLASH_SALE_ORDERS_EVERY_S = 0.3
# Scans are hours apart at real speed; a minute keeps a parcel's timeline within a minute of its plan
# (and a demo's time-scaled parcels moving visibly).
CARRIER_EVERY_S = 60.0
# A token's last use is shown to the minute (API tokens page): moved from Redis once a minute.
TOKEN_LAST_USED_EVERY_S = 60.0


@job("payment_timeouts", every_s=PAYMENT_TIMEOUTS_EVERY_S, business=True)
def payment_timeouts(context: JobContext) -> Counts:
    """Cancel checkouts not paid within their timeout and release their stock."""
    with context.database.session() as db:
        return {"expired_checkouts": commerce_service.expire_unpaid_checkouts(db, context.now)}


@job("carrier_updates", every_s=CARRIER_EVERY_S, business=True)
def carrier_updates(context: JobContext) -> Counts:
    """The simulated carrier: track new shipments on its carriers, write the scans whose time has come
    (pickup, transit, delivery move the order), open the buyer's refund claim for a lost parcel."""
    with context.database.session() as db:
        return logistics_service.run_carrier_updates(db, context.settings, context.now)


@job("after_sales_deadlines", every_s=DEADLINES_EVERY_S, business=True)
def after_sales_deadlines(context: JobContext) -> Counts:
    """Approve requests a merchant left unanswered past the deadline; close those the shopper left."""
    with context.database.session() as db:
        result = aftersales_service.auto_process_due(db, context.now)
    return {
        "after_sales_approved": result.approved,
        "after_sales_closed": result.closed,
        "after_sales_failed": result.failed,
    }


@job("auto_completion", every_s=DEADLINES_EVERY_S, business=True)
def auto_completion(context: JobContext) -> Counts:
    """Complete delivered orders whose confirmation window has passed."""
    with context.database.session() as db:
        return {"completed_orders": flows.complete_due_orders(db, context.now)}


@job("settlements", every_s=DEADLINES_EVERY_S, business=True)
def settlements(context: JobContext) -> Counts:
    """Record completed orders' settlements, refresh pending ones and settle those completed
    ``settlement_days`` ago (idempotent: a settled row never changes)."""
    with context.database.session() as db:
        return finance_service.run_settlements(db, context.now, settings=context.settings)


@job("coupon_endings", every_s=DEADLINES_EVERY_S, business=True)
def coupon_endings(context: JobContext) -> Counts:
    """Tell shops' staff of their coupons ending within 3 days (once per coupon and person)."""
    with context.database.session() as db:
        return {"coupon_ending_notifications": flows.notify_coupons_ending(db, context.now)}


@job("warehouse_receiving", every_s=WAREHOUSE_RECEIVING_EVERY_S, business=True)
def warehouse_receiving(context: JobContext) -> Counts:
    """The simulated platform warehouse receives, as sent, inbounds in transit for a day (times
    ``warehouse_time_scale``); their units go on the shelves and on sale."""
    with context.database.session() as db:
        received = warehouse_service.receive_due_inbounds(db, context.now, context.settings)
    return {"inbounds_received": received}


@job("warehouse_fulfilment", every_s=WAREHOUSE_FULFILMENT_EVERY_S, business=True)
def warehouse_fulfilment(context: JobContext) -> Counts:
    """Queue paid orders of warehouse stock; pick, pack and hand each to the carrier (ships it as the
    platform warehouse's)."""
    with context.database.session() as db:
        counts = warehouse_fulfilment_service.run(db, context.now, context.settings)
    return {f"warehouse_{key}": n for key, n in counts.items()}


# A failed run (Redis restarting: the counters cannot be read) is retried after a second, not the
# default 5 s: admission waits for the rebuild ("sale_rebuilding") meanwhile.
@job("flash_sale_orders", every_s=FLASH_SALE_ORDERS_EVERY_S, business=True, retry_base_s=1.0)
def flash_sale_orders(context: JobContext) -> Counts:
    """Write the orders of admitted flash-sale tickets in batches, then keep the admission counters
    true to PostgreSQL: rebuild missing ones (Redis restarted), give back released units, end sales
    past their end (docs/flash-sales.md)."""
    counts: dict[str, int] = {}
    with context.database.session() as db:
        for _ in range(10):  # drain a burst within one run, a batch per transaction
            done = flashsales_writer.write_batch(db, context.settings, context.now or clock.now())
            for key, n in done.items():
                counts[f"flash_{key}"] = counts.get(f"flash_{key}", 0) + n
            if sum(done.values()) < flashsales_writer.BATCH:
                break
        for key, n in flashsales_service.sync(db, context.settings, context.now or clock.now()).items():
            counts[f"flash_{key}"] = n
    return counts


@job("shop_scores", every_s=SCORES_EVERY_S, business=True)
def shop_scores(context: JobContext) -> Counts:
    """The nightly experience-score batch: every active shop, at most once per 24 h."""
    with context.database.session() as db:
        if not experience_computation.scores_due(db, context.now):
            return {"shop_scores": 0}
        return {"shop_scores": len(experience_computation.compute_scores(db, context.now))}


@job("compass_snapshot", every_s=COMPASS_EVERY_S, retry_base_s=30.0)
def compass_snapshot(context: JobContext) -> Counts:
    """Rebuild Compass's analytics snapshot when it is older than its max age (requests read the newest)."""
    built = refresh_snapshot(context.database, context.settings, force=False, blocking=False)
    return {"compass_snapshot": int(built is not None)}


@job("feed_catch_up", every_s=FEED_CATCH_UP_EVERY_S, retry_base_s=30.0, lease_s=1800.0)
def feed_catch_up(context: JobContext) -> Counts:
    """Add the events logged since to the served feed model's item-to-item counts and publish the state
    (API workers memory-map it), in a child process at idle CPU priority."""
    interval = context.settings.feed_catch_up_seconds
    folder = artifacts.newest(feed_model.MODEL_NAME, context.settings.models_dir)
    if folder is None or interval <= 0:
        return {"feed_catch_up": 0}
    state = catch_up.newest_state(folder)
    since = state[0] if state is not None else read_window_end(folder)
    until = clock.now() - timedelta(seconds=FEED_CATCH_UP_LAG_S)
    if since is not None and (until - since).total_seconds() < interval:
        return {"feed_catch_up": 0}  # the newest state is recent enough
    child = catch_up.start(folder, until, catch_up.catch_up_env(context.settings))
    try:
        _, errors = child.communicate()
    finally:
        if child.poll() is None:
            child.kill()
            with contextlib.suppress(Exception):
                child.wait(5)
    if child.returncode != 0:
        lines = errors.decode(errors="replace").strip().splitlines() if errors else []
        raise RuntimeError(f"catch-up exited {child.returncode}: {lines[-1] if lines else ''}")
    published = catch_up.newest_state(folder)
    return {"feed_catch_up": int(published is not None and published != state)}


@job("like_counts", every_s=LIKE_COUNTS_EVERY_S)
def like_counts(context: JobContext) -> Counts:
    """Count likes per content from the behaviour events and publish them for the pages' cards."""
    counts = compass_likes.publish(context.database, context.settings, context.event_store())
    return {"liked_contents": len(counts)}


@job("search_follow", every_s=SEARCH_FOLLOW_EVERY_S)
def search_follow(context: JobContext) -> Counts:
    """Commit the catalogue's changes since the last watermark to the search index (API workers reload
    within a second of the commit); the one writer, under the index's file lock."""
    return search_indexing.follow(context.database, context.settings)


@job("search_build", every_s=SEARCH_BUILD_EVERY_S, retry_base_s=30.0, lease_s=1800.0)
def search_build(context: JobContext) -> Counts:
    """Rebuild the whole search index and publish it (workers switch to it on their next check)."""
    return search_indexing.build(context.database, context.settings)


@job("integrity_scan", every_s=INTEGRITY_SCAN_EVERY_S, retry_base_s=60.0, lease_s=1800.0)
def integrity_scan(context: JobContext) -> Counts:
    """Load the last week's engagement, orders and reviews, run the integrity detector, record its
    blocks as cases and flags (idempotently) and publish the flag set every discounting reader loads."""
    return integrity_flows.run_scan(
        context.database, context.settings, context.event_store(), now=context.now
    )


@job("token_last_used", every_s=TOKEN_LAST_USED_EVERY_S)
def token_last_used(context: JobContext) -> Counts:
    """Move the tokens' last uses that API workers recorded in Redis into ``auth_tokens``."""
    with context.database.session() as db:
        return {"tokens": token_use.flush(db, context.settings)}
