"""The attack file: what bought engagement and brushing a simulation plants (issue #19).

``zhongcao simulate --attacks FILE.json`` and ``zhongcao bench integrity --attacks FILE.json`` read it.
Every field has a small default sized for the small demo world (500 shoppers, 40 shops), so ``{}`` is a
valid file that plants nothing and ``{"farms": [{}]}`` plants one default engagement farm. The schema is
documented in docs/integrity.md; :func:`load_attack_plan` turns a bad file into one sentence per
problem (the field's path and the reason), never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

FarmAction = Literal["view", "like", "comment", "follow"]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    start_day: int = Field(3, ge=0, le=364, description="First simulated day (0-based) of the attack.")
    days: int = Field(7, ge=1, le=365, description="How many days it runs.")

    def active(self, day: int) -> bool:
        return self.start_day <= day < self.start_day + self.days


class FarmSpec(_Spec):
    """An engagement farm: accounts paid to like, follow, view and comment on one customer's items in
    bursts, with camouflage on popular organic items."""

    accounts: int = Field(30, ge=3, le=5_000)
    new_share: float = Field(0.4, ge=0.0, le=1.0, description="Accounts registered for the attack.")
    aged_share: float = Field(0.3, ge=0.0, le=1.0, description="Dormant accounts bought aged.")
    hijacked_share: float = Field(
        0.3, ge=0.0, le=1.0, description="Real shoppers' accounts taken over (they keep their own habits)."
    )
    targets: int = Field(4, ge=1, le=50, description="The customer's videos the farm is paid to push.")
    actions: tuple[FarmAction, ...] = Field(("view", "like", "comment", "follow"), min_length=1)
    bursts_per_day: int = Field(2, ge=1, le=24)
    burst_minutes: int = Field(30, ge=1, le=240, description="How long one burst lasts.")
    participation: float = Field(0.8, gt=0.0, le=1.0, description="Share of the farm acting in a burst.")
    camouflage: float = Field(
        1.0, ge=0.0, le=20.0, description="Actions on popular organic items per paid action."
    )
    devices: int = Field(5, ge=0, le=5_000, description="Devices the bought accounts share (0: unknown).")

    @model_validator(mode="after")
    def _shares_add_up(self) -> FarmSpec:
        total = self.new_share + self.aged_share + self.hijacked_share
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"new_share + aged_share + hijacked_share must be 1, got {total:g}")
        return self


class ViewInflationSpec(_Spec):
    """Scripted sessions that replay a customer's videos far faster and more often than people do."""

    accounts: int = Field(6, ge=1, le=1_000)
    targets: int = Field(2, ge=1, le=20)
    sessions_per_day: int = Field(3, ge=1, le=48, description="Scripted sessions per account and day.")
    views_per_session: int = Field(60, ge=1, le=5_000)
    seconds_between: int = Field(20, ge=1, le=3_600, description="Seconds between two scripted views.")
    camouflage: float = Field(0.5, ge=0.0, le=20.0, description="Views of popular items per paid view.")


class BrushingSpec(_Spec):
    """A brushing ring (刷单): merchant-funded accounts buy the shop's cheap items, confirm receipt at
    once and leave five-star near-duplicate reviews; the money goes back outside the platform."""

    start_day: int = Field(3, ge=0, le=364)
    days: int = Field(10, ge=1, le=365)
    shop: int | None = Field(None, ge=0, description="Shop index in the world (default: drawn).")
    accounts: int = Field(10, ge=2, le=2_000)
    orders_per_day: float = Field(5.0, gt=0.0, le=1_000.0)
    cheap_quantile: float = Field(
        0.3, gt=0.0, le=1.0, description="Buys among the shop's cheapest products (this share of them)."
    )
    shared_addresses: int = Field(3, ge=0, le=1_000, description="Delivery addresses the ring shares.")
    shared_devices: int = Field(2, ge=0, le=1_000)
    shared_payments: int = Field(2, ge=0, le=1_000, description="Payment instruments the ring shares.")
    shared_share: float = Field(
        0.6, ge=0.0, le=1.0, description="Share of orders using the ring's shared address/device/payment."
    )
    confirm_minutes: int = Field(
        60, ge=1, le=10_080, description="Receipt confirmed this soon after delivery."
    )
    review_share: float = Field(
        0.9, ge=0.0, le=1.0, description="Share of brushed orders reviewed (5 stars)."
    )


class AttackPlan(BaseModel):
    """Every attack one simulation plants."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    farms: tuple[FarmSpec, ...] = ()
    view_inflation: tuple[ViewInflationSpec, ...] = ()
    brushing: tuple[BrushingSpec, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.farms or self.view_inflation or self.brushing)

    def with_camouflage(self, camouflage: float) -> AttackPlan:
        """The same plan with every farm's camouflage set to ``camouflage`` (the bench's levels)."""
        return self.model_copy(
            update={"farms": tuple(f.model_copy(update={"camouflage": camouflage}) for f in self.farms)}
        )

    def check_days(self, days: int) -> None:
        """Every attack must start inside a simulation of ``days`` days."""
        for name in ("farms", "view_inflation", "brushing"):
            for i, spec in enumerate(getattr(self, name)):
                if spec.start_day >= days:
                    raise AttackFileError(
                        [f"{name}[{i}].start_day: {spec.start_day} is not inside the {days} simulated days"]
                    )


def default_plan() -> AttackPlan:
    """The demo world's attacks: one farm, one view-inflation script, one brushing ring (small)."""
    return AttackPlan(farms=(FarmSpec(),), view_inflation=(ViewInflationSpec(),), brushing=(BrushingSpec(),))


SpecT = TypeVar("SpecT", bound=_Spec)

# The platform's integrity scan looks back a week (integrity_flows.SCAN_WINDOW): the demo's attacks
# run in the simulation's last week, so the scan at the end of the build finds them.
DEMO_ATTACK_DAYS = 7


def demo_plan(days: int) -> AttackPlan:
    """:func:`default_plan` moved into the last :data:`DEMO_ATTACK_DAYS` of a ``days``-day simulation
    (each attack shortened to fit): what ``zhongcao demo`` plants unless ``--no-attacks``."""
    if days < 1:
        raise ValueError("a demo plan needs at least one simulated day")
    start = max(0, days - DEMO_ATTACK_DAYS)

    def fit(spec: SpecT) -> SpecT:
        return spec.model_copy(update={"start_day": start, "days": min(spec.days, days - start)})

    plan = default_plan()
    return AttackPlan(
        farms=tuple(fit(f) for f in plan.farms),
        view_inflation=tuple(fit(v) for v in plan.view_inflation),
        brushing=tuple(fit(b) for b in plan.brushing),
    )


class AttackFileError(ValueError):
    """A bad attack file; ``problems`` are sentences ``path: reason``."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(the file)"


def parse_attack_plan(data: object) -> AttackPlan:
    """Validate already-parsed JSON; raises :class:`AttackFileError` with one line per problem."""
    try:
        return AttackPlan.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            reason = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                reason = "unknown field"
            problems.append(f"{_path(tuple(error['loc']))}: {reason}")
        raise AttackFileError(problems) from None


def load_attack_plan(path: Path | str) -> AttackPlan:
    """Read and validate an attack file (JSON)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AttackFileError([f"{path}: no such file"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AttackFileError([f"{path}: cannot be read ({exc})"]) from None
    except json.JSONDecodeError as exc:
        raise AttackFileError(
            [f"{path}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"]
        ) from None
    return parse_attack_plan(data)
