"""Money is integer fen (1/100 yuan). Never floats.

Rounding rules (documented in docs/money.md):

* a rate in basis points applied to an amount rounds half up to the fen: ``apply_bps``;
* an order-level amount (a coupon, a platform discount) is spread over lines in proportion to
  their weights with the largest-remainder method, so the parts always add up to the whole:
  ``allocate``.
"""

from __future__ import annotations

from collections.abc import Sequence

BPS_DENOMINATOR = 10_000


def apply_bps(amount_fen: int, bps: int) -> int:
    """``amount × bps / 10000`` rounded half up to a whole fen (amount and bps non-negative)."""
    if amount_fen < 0 or bps < 0:
        raise ValueError("apply_bps takes non-negative amounts and rates")
    return (amount_fen * bps + BPS_DENOMINATOR // 2) // BPS_DENOMINATOR


def allocate(total_fen: int, weights: Sequence[int]) -> list[int]:
    """Split ``total_fen`` over ``weights`` proportionally; parts sum exactly to the total.

    Largest-remainder (Hamilton) method; ties go to the earlier line, so the result is stable.
    """
    if total_fen < 0:
        raise ValueError("cannot allocate a negative amount")
    if not weights:
        if total_fen:
            raise ValueError("cannot allocate a non-zero amount over no lines")
        return []
    if any(w < 0 for w in weights):
        raise ValueError("weights must be non-negative")
    weight_sum = sum(weights)
    if weight_sum == 0:
        weights = [1] * len(weights)
        weight_sum = len(weights)
    floors = [total_fen * w // weight_sum for w in weights]
    remainders = [(total_fen * w % weight_sum, -i) for i, w in enumerate(weights)]
    left = total_fen - sum(floors)
    for _, neg_index in sorted(remainders, reverse=True)[:left]:
        floors[-neg_index] += 1
    return floors


def proportional(amount_fen: int, part: int, whole: int) -> int:
    """``amount × part / whole`` rounded half up; used to reverse a share of a commission."""
    if whole <= 0:
        return 0
    return (amount_fen * part * 2 + whole) // (2 * whole)


def format_yuan(amount_fen: int) -> str:
    """``-17972950`` -> ``-¥179,729.50``: plain text outside the pages (which use the Babel formatter,
    ``web.templating.money``), grouped in thousands as well."""
    sign = "-" if amount_fen < 0 else ""
    amount_fen = abs(amount_fen)
    return f"{sign}¥{amount_fen // 100:,}.{amount_fen % 100:02d}"


def allocate_capped(total_fen: int, weights: Sequence[int], caps: Sequence[int]) -> list[int]:
    """Spread ``total_fen`` by ``weights`` (largest remainder) without any part exceeding its cap.

    What a capped part cannot take is spread again over the parts that still have room, so the
    parts always add up to ``total_fen`` (which must not exceed ``sum(caps)``).
    """
    if len(weights) != len(caps):
        raise ValueError("weights and caps differ in length")
    if total_fen < 0 or any(c < 0 for c in caps):
        raise ValueError("amounts must not be negative")
    if total_fen > sum(caps):
        raise ValueError("cannot allocate more than the caps allow")
    parts = [0] * len(caps)
    left = total_fen
    open_lines = [i for i, cap in enumerate(caps) if cap > 0]
    while left > 0:
        shares = allocate(left, [weights[i] for i in open_lines])
        left = 0
        still_open = []
        for i, share in zip(open_lines, shares, strict=True):
            take = min(share, caps[i] - parts[i])
            parts[i] += take
            left += share - take
            if parts[i] < caps[i]:
                still_open.append(i)
        open_lines = still_open
    return parts
