"""The demo logins' place in the world: what the generator steers so that each login shows its features.

Only hidden traits and traffic are steered, never outcomes: the good shop is excellent and sells at a
fair price, the poor shop is bad at everything but cheap, both are large beauty shops whose own accounts
post often; the demo creator is a well-followed, skilled beauty creator; the demo shopper is keen. What
the month makes of that (orders, reviews, refunds, scores, commissions) is the platform's doing, through
the simulation (:mod:`zhongcao.world.simulate`) and the nightly jobs.
"""

from __future__ import annotations

import numpy as np

# Indexes in the generator's arrays (the demo logins are made first, in this order).
GOOD_SHOP, POOR_SHOP = 0, 1
DEMO_CREATOR = 0
DEMO_SHOPPER = 0
BEAUTY = 1  # vocab.CATEGORIES[1]: 美妆个护, what both demo shops sell, to compare like with like
DEMO_CREATOR_NICHE = "makeup"

GOOD_QUALITY, POOR_QUALITY = 0.97, 0.04
# How each demo shop prices against its category (1 is the category's typical price).
# The poor shop undercuts everyone, which is how it keeps selling.
GOOD_PRICE_TIER, POOR_PRICE_TIER = 0.9, 0.6
# Added to the hidden appeal of each demo shop's products (appeal is N(0, 1)): eye-catching goods.
GOOD_SHOP_APPEAL, POOR_SHOP_APPEAL = 0.6, 1.0
# Share of all shop-account content each demo shop's account posts (an average shop posts 1/shops).
GOOD_SHOP_CONTENT_SHARE, POOR_SHOP_CONTENT_SHARE = 0.06, 0.08
POOR_SHOP_DECIDES_HOURS, POOR_SHOP_REFUSES = 44.0, 0.85
POOR_SHOP_CS_MINUTES = 180.0  # its customer service answers in about three hours
# ... and it is the slowest to ship, its carrier the slowest, its goods the most often faulty.
POOR_SHOP_PICKUP_HOURS, POOR_SHOP_CARRIER_DAYS, POOR_SHOP_DEFECT_RATE = 72.0, 6.0, 0.3
# Share of creators' content the demo creator posts, and the open-plan rate on the good shop's products
# (so the demo creator has plenty of them to promote).
DEMO_CREATOR_CONTENT_SHARE = 0.06
GOOD_SHOP_PLAN_RATE = 0.8


def steer_shops(quality: np.ndarray, price_tier: np.ndarray, shop_top: np.ndarray) -> None:
    """The two demo shops' hidden quality, prices and category (in place)."""
    quality[GOOD_SHOP], quality[POOR_SHOP] = GOOD_QUALITY, POOR_QUALITY
    price_tier[GOOD_SHOP], price_tier[POOR_SHOP] = GOOD_PRICE_TIER, POOR_PRICE_TIER
    shop_top[GOOD_SHOP] = shop_top[POOR_SHOP] = BEAUTY


def steer_hidden(hidden: dict[str, np.ndarray]) -> None:
    """The good shop checks every parcel before it leaves: no defects. The poor shop answers refund
    requests at the last moment (often the platform's 48-hour deadline approves them first) and then
    nearly always with a no, and its customer service takes hours."""
    hidden["shop_defect_rate"][GOOD_SHOP] = 0.0
    hidden["shop_aftersales_hours"][POOR_SHOP] = POOR_SHOP_DECIDES_HOURS
    hidden["shop_refusal_propensity"][POOR_SHOP] = POOR_SHOP_REFUSES
    hidden["shop_cs_response_minutes"][POOR_SHOP] = POOR_SHOP_CS_MINUTES
    hidden["shop_pickup_delay_hours"][POOR_SHOP] = POOR_SHOP_PICKUP_HOURS
    hidden["shop_carrier_days"][POOR_SHOP] = POOR_SHOP_CARRIER_DAYS
    hidden["shop_defect_rate"][POOR_SHOP] = POOR_SHOP_DEFECT_RATE


def steer_product_weights(weights: np.ndarray) -> None:
    """The two demo shops are among the larger ones, so their dashboards have something to show."""
    weights[:2] = np.maximum(weights[:2], np.quantile(weights, 0.95))


def steer_appeal(appeal: np.ndarray, product_shop: np.ndarray) -> None:
    appeal[product_shop == GOOD_SHOP] += GOOD_SHOP_APPEAL
    appeal[product_shop == POOR_SHOP] += POOR_SHOP_APPEAL


def steer_plans(has_plan: np.ndarray, product_shop: np.ndarray, draws: np.ndarray) -> None:
    good = product_shop == GOOD_SHOP
    has_plan[good] = draws[good] < GOOD_SHOP_PLAN_RATE


def steer_creator(audience: np.ndarray, skill: np.ndarray, niche: np.ndarray, niche_index: int) -> None:
    """The demo creator: a well-followed (the 90th percentile), skilled makeup creator, not a top KOL."""
    audience[DEMO_CREATOR] = max(int(audience[DEMO_CREATOR]), int(np.quantile(audience, 0.9)))
    skill[DEMO_CREATOR] = max(float(skill[DEMO_CREATOR]), 0.85)
    niche[DEMO_CREATOR] = niche_index


def steer_content_authors(
    by_creator: np.ndarray, creator_pick: np.ndarray, shop_pick: np.ndarray, draws: np.ndarray
) -> None:
    """Give the demo shops' accounts and the demo creator their share of the content (in place)."""
    by_shop = ~by_creator
    shop_pick[by_shop & (draws < GOOD_SHOP_CONTENT_SHARE)] = GOOD_SHOP
    poor = (draws >= GOOD_SHOP_CONTENT_SHARE) & (draws < GOOD_SHOP_CONTENT_SHARE + POOR_SHOP_CONTENT_SHARE)
    shop_pick[by_shop & poor] = POOR_SHOP
    creator_pick[(draws < DEMO_CREATOR_CONTENT_SHARE) & by_creator] = DEMO_CREATOR


def keen_shopper(activity: np.ndarray) -> None:
    """The demo shopper is a keen one, so that logging in shows orders, reviews, follows."""
    activity[DEMO_SHOPPER] = max(float(activity[DEMO_SHOPPER]), 3.5)
