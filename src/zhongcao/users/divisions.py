"""Mainland China's administrative divisions: province → city → district (GB/T 2260 codes).

The data ships in the package (``users/data/divisions.json``, see ``data/SOURCE.md``) and is read once.
Everything here is pure: codes in, names and lists out. :func:`check` is the one rule addresses use:
the district belongs to the city and the city to the province, else ``InvalidInput`` naming the level
at fault (``code="unknown_division"`` or ``"division_mismatch"``).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from functools import cache
from importlib import resources

from zhongcao.errors import InvalidInput


@dataclass(frozen=True)
class Division:
    code: str
    name_zh: str
    name_en: str
    parent: str | None  # the province of a city, the city of a district

    def name(self, locale: str) -> str:
        return self.name_en if locale.startswith("en") else self.name_zh


@dataclass(frozen=True)
class _Tables:
    by_code: dict[tuple[str, str], Division]  # (level, code) -> division; a city may be its own district
    children: dict[str, list[Division]]  # "" -> provinces, province code -> cities, city code -> districts


LEVELS = ("province", "city", "district")


@cache
def _tables() -> _Tables:
    raw = json.loads(resources.files("zhongcao.users").joinpath("data/divisions.json").read_text("utf-8"))
    by_code: dict[tuple[str, str], Division] = {}
    children: dict[str, list[Division]] = {"": []}
    for p_code, p_zh, p_en, cities in raw:
        province = Division(p_code, p_zh, p_en, None)
        by_code[("province", p_code)] = province
        children[""].append(province)
        children[p_code] = []
        for c_code, c_zh, c_en, districts in cities:
            city = Division(c_code, c_zh, c_en, p_code)
            by_code[("city", c_code)] = city
            children[p_code].append(city)
            children[c_code] = []
            for d_code, d_zh, d_en in districts:
                district = Division(d_code, d_zh, d_en, c_code)
                by_code[("district", d_code)] = district
                children[c_code].append(district)
    return _Tables(by_code, children)


def provinces() -> list[Division]:
    return list(_tables().children[""])


def children(code: str | None) -> list[Division]:
    """The cities of a province or the districts of a city ([] for an unknown code)."""
    return list(_tables().children.get(code or "", [])) if code else []


def get(level: str, code: str | None) -> Division | None:
    return _tables().by_code.get((level, code or ""))


def by_names(province: str, city: str, district: str) -> tuple[Division, Division, Division] | None:
    """The divisions with these Chinese names, each inside the one above (what an order stores), or
    None when one is not found (an address typed in through the API may name anything)."""
    p = next((x for x in provinces() if x.name_zh == province), None)
    c = next((x for x in children(p.code) if x.name_zh == city), None) if p else None
    d = next((x for x in children(c.code) if x.name_zh == district), None) if c else None
    return (p, c, d) if p and c and d else None


def check(province: str, city: str, district: str) -> tuple[Division, Division, Division]:
    """The three divisions, or ``InvalidInput`` naming the first level that is unknown or does not
    belong to the level above it."""
    p, c, d = get("province", province), get("city", city), get("district", district)
    if p is None:
        raise InvalidInput("unknown province", code="unknown_division", field="province_code")
    if c is None:
        raise InvalidInput("unknown city", code="unknown_division", field="city_code")
    if c.parent != p.code:
        raise InvalidInput("the city is not in that province", code="division_mismatch", field="city_code")
    if d is None:
        raise InvalidInput("unknown district", code="unknown_division", field="district_code")
    if d.parent != c.code:
        raise InvalidInput(
            "the district is not in that city", code="division_mismatch", field="district_code"
        )
    return p, c, d


def random_district(rng: random.Random) -> tuple[Division, Division, Division]:
    """A province, one of its cities and one of that city's districts, each drawn uniformly."""
    province = rng.choice(provinces())
    city = rng.choice(children(province.code))
    district = rng.choice(children(city.code))
    return province, city, district
