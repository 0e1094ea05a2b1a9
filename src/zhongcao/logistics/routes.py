"""Where a parcel travels from and to, and how far: province capitals on the map.

Distances are great-circle kilometres between the capitals of the two provinces (a road trip is
longer, which the carriers' speed profiles absorb). Pure functions: division codes and names in,
:class:`Route` out.

Where a parcel starts
    Shops have no dispatch address yet, so the simulated carrier places each shop's dispatch point in
    one of the provinces where most e-commerce parcels start, chosen by a hash of the shop's id
    (the same shop always ships from the same place). A parcel from the platform's warehouse (云仓)
    leaves from the platform warehouse nearest the buyer.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from functools import cache
from typing import Any

from zhongcao.users import divisions

# Latitude and longitude of each province's capital, by the province's GB/T 2260 code.
CAPITALS: dict[str, tuple[float, float]] = {
    "110000": (39.90, 116.41),  # 北京
    "120000": (39.13, 117.20),  # 天津
    "130000": (38.04, 114.51),  # 石家庄
    "140000": (37.87, 112.55),  # 太原
    "150000": (40.84, 111.75),  # 呼和浩特
    "210000": (41.80, 123.43),  # 沈阳
    "220000": (43.82, 125.32),  # 长春
    "230000": (45.80, 126.53),  # 哈尔滨
    "310000": (31.23, 121.47),  # 上海
    "320000": (32.06, 118.80),  # 南京
    "330000": (30.27, 120.15),  # 杭州
    "340000": (31.82, 117.23),  # 合肥
    "350000": (26.07, 119.30),  # 福州
    "360000": (28.68, 115.86),  # 南昌
    "370000": (36.65, 117.12),  # 济南
    "410000": (34.75, 113.63),  # 郑州
    "420000": (30.59, 114.31),  # 武汉
    "430000": (28.23, 112.94),  # 长沙
    "440000": (23.13, 113.26),  # 广州
    "450000": (22.82, 108.37),  # 南宁
    "460000": (20.04, 110.20),  # 海口
    "500000": (29.56, 106.55),  # 重庆
    "510000": (30.57, 104.07),  # 成都
    "520000": (26.65, 106.63),  # 贵阳
    "530000": (25.04, 102.71),  # 昆明
    "540000": (29.65, 91.17),  # 拉萨
    "610000": (34.34, 108.94),  # 西安
    "620000": (36.06, 103.83),  # 兰州
    "630000": (36.62, 101.78),  # 西宁
    "640000": (38.49, 106.23),  # 银川
    "650000": (43.83, 87.62),  # 乌鲁木齐
}

# Where shops ship from, weighted roughly by how many parcels each province sends.
DISPATCH_PROVINCES: tuple[tuple[str, int], ...] = (
    ("440000", 25),  # 广东
    ("330000", 22),  # 浙江
    ("320000", 12),  # 江苏
    ("310000", 10),  # 上海
    ("350000", 8),  # 福建
    ("370000", 7),  # 山东
    ("110000", 5),  # 北京
    ("420000", 4),  # 湖北
    ("410000", 4),  # 河南
    ("510000", 3),  # 四川
)
# The platform's regional warehouses (云仓): a warehouse parcel leaves from the one nearest the buyer.
PLATFORM_WAREHOUSES = ("310000", "440000", "110000", "510000", "420000")
# National transfer hubs a long-distance parcel passes through.
TRANSFER_HUBS = ("410000", "420000", "610000", "430000", "370000", "510000")
# Provinces whose last mile is long (vast, sparsely served): the carrier adds hours there.
REMOTE_PROVINCES = frozenset({"540000", "650000", "630000", "150000", "620000"})
# When a destination is not a known province (free text from an old API client): a typical trip.
UNKNOWN_DISTANCE_KM = 1200


@dataclass(frozen=True)
class Place:
    """A point on a parcel's way, named in both languages."""

    province: divisions.Division
    city: divisions.Division
    district: divisions.Division | None = None

    def name_zh(self) -> str:
        return self.city.name_zh + (self.district.name_zh if self.district is not None else "")

    def name_en(self) -> str:
        if self.district is not None:
            return f"{self.district.name_en}, {self.city.name_en}"
        return self.city.name_en


@dataclass(frozen=True)
class Route:
    origin: Place
    destination: Place | None  # None: the address named no province we know
    distance_km: int
    via: Place | None = None  # the transfer hub of a long trip

    @property
    def remote(self) -> bool:
        return self.destination is not None and self.destination.province.code in REMOTE_PROVINCES

    @property
    def same_city(self) -> bool:
        return self.destination is not None and self.destination.city.code == self.origin.city.code


def _stable_int(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def km_between(a: str, b: str) -> int:
    """Great-circle kilometres between two provinces' capitals (0 within one province)."""
    if a == b:
        return 0
    (lat1, lon1), (lat2, lon2) = CAPITALS[a], CAPITALS[b]
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return round(2 * 6371 * math.asin(math.sqrt(h)))


def capital(province_code: str) -> Place:
    province = divisions.get("province", province_code)
    if province is None:
        raise ValueError(f"unknown province {province_code}")
    return Place(province, divisions.children(province.code)[0])


def shop_dispatch_province(shop_id: int) -> str:
    """The province a shop's parcels leave from (stable per shop, weighted by parcel volume)."""
    total = sum(weight for _, weight in DISPATCH_PROVINCES)
    pick = _stable_int(f"shop:{shop_id}") % total
    for code, weight in DISPATCH_PROVINCES:
        if pick < weight:
            return code
        pick -= weight
    return DISPATCH_PROVINCES[0][0]


def nearest_warehouse(destination_code: str | None) -> str:
    if destination_code is None:
        return PLATFORM_WAREHOUSES[0]
    return min(PLATFORM_WAREHOUSES, key=lambda code: km_between(code, destination_code))


@cache
def _province_names() -> dict[str, str]:
    names: dict[str, str] = {}
    for province in divisions.provinces():
        for name in (province.name_zh, province.name_en.casefold()):
            names[name] = province.code
        # 上海 for 上海市, 广东 for 广东省, 内蒙古 for 内蒙古自治区
        for suffix in ("省", "市", "自治区", "壮族自治区", "回族自治区", "维吾尔自治区"):
            if province.name_zh.endswith(suffix):
                names.setdefault(province.name_zh[: -len(suffix)], province.code)
    return names


def _child_named(parent: str, name: str) -> divisions.Division | None:
    name = name.strip()
    if not name:
        return None
    for child in divisions.children(parent):
        if name in (child.name_zh, child.name_en) or child.name_zh.startswith(name):
            return child
    return None


def destination_of(address: dict[str, Any]) -> Place | None:
    """The place an order's shipping address names (province, city, district by name, as checkout
    stores them); None when the province is not one we know. An unknown city is the capital."""
    province_code = _province_names().get(str(address.get("province", "")).strip()) or _province_names().get(
        str(address.get("province", "")).strip().casefold()
    )
    if province_code is None:
        return None
    place = capital(province_code)
    city = _child_named(province_code, str(address.get("city", ""))) or place.city
    district = _child_named(city.code, str(address.get("district", "")))
    return Place(place.province, city, district)


def route_for(shop_id: int, address: dict[str, Any], *, platform_warehouse: bool = False) -> Route:
    """From the shop's dispatch point (or the platform warehouse nearest the buyer) to the address."""
    destination = destination_of(address)
    dest_code = destination.province.code if destination is not None else None
    origin_code = nearest_warehouse(dest_code) if platform_warehouse else shop_dispatch_province(shop_id)
    origin = capital(origin_code)
    if dest_code is None:
        return Route(origin, None, UNKNOWN_DISTANCE_KM)
    distance = km_between(origin_code, dest_code)
    via = None
    if distance > 1000:
        hubs = [h for h in TRANSFER_HUBS if h not in (origin_code, dest_code)]
        best = min(hubs, key=lambda h: km_between(origin_code, h) + km_between(h, dest_code))
        via = capital(best)
    return Route(origin, destination, distance, via)
