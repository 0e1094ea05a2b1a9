"""Each simulated buyer's own name, mobile number and address (issue #17 item 3).

Drawn from the shipped divisions (:mod:`zhongcao.users.divisions`) with a generator seeded by the
world's seed and the buyer's user id, so a buyer ships to the same place in every order and run, and
the simulation's own random stream is untouched.
"""

from __future__ import annotations

import random

from zhongcao.commerce.schemas import ShippingAddress
from zhongcao.users import divisions
from zhongcao.users.schemas import AddressIn

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"  # noqa: E501
GIVEN = "伟芳娜敏静丽强磊洋艳勇军杰娟涛明超秀霞平刚桂英华玉萍红鹏飞鑫宇浩然子涵欣怡梓萱诗雨晨阳佳琪嘉俊思彤一诺雪婷海燕建国志强晓东丹丹"  # noqa: E501
STREETS = (
    "人民路",
    "解放路",
    "中山路",
    "建设路",
    "和平路",
    "新华路",
    "文化路",
    "胜利路",
    "长江路",
    "学府路",
    "滨河路",
    "花园路",
)
PLACES = ("小区", "花园", "公寓", "家园", "苑")


def buyer(seed: int, user_id: int) -> AddressIn:
    """The buyer's address-book entry (their default address)."""
    rng = random.Random(f"{seed}:{user_id}:buyer")
    province, city, district = divisions.random_district(rng)
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    phone = "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))
    place = rng.choice(("阳光", "金色", "翠湖", "锦绣", "世纪", "幸福", "东方", "绿城")) + rng.choice(PLACES)
    detail = (
        f"{rng.choice(STREETS)}{rng.randint(1, 999)}号{place}"
        f"{rng.randint(1, 30)}栋{rng.randint(1, 6)}单元{rng.randint(1, 32)}{rng.randint(1, 4):02d}室"
    )
    return AddressIn(
        recipient=name,
        phone=phone,
        province_code=province.code,
        city_code=city.code,
        district_code=district.code,
        detail=detail,
        is_default=True,
    )


def shipping(entry: AddressIn) -> ShippingAddress:
    """What an order stores for the buyer's address (names, as checkout stores them)."""
    p, c, d = divisions.check(entry.province_code, entry.city_code, entry.district_code)
    return ShippingAddress(
        name=entry.recipient, phone=entry.phone, province=p.name_zh, city=c.name_zh, district=d.name_zh,
        line=entry.detail,
    )  # fmt: skip
