"""The demo world's vocabulary: bilingual categories, brands, product types, attributes, topics.

Data only. A product title is composed as brand + attribute values + product type, in both
languages ("花西子 玫瑰 雕花口红" / "Florasis Rose Carved Lipstick"), so search has real structure.
Prices are in fen: each leaf has a (low, high) range that the generator draws from log-uniformly.
"""

from __future__ import annotations

from dataclasses import dataclass

Text = tuple[str, str]  # (zh-CN, en)


@dataclass(frozen=True)
class Leaf:
    slug: str
    name: Text
    price_fen: tuple[int, int]
    product_types: tuple[Text, ...]
    attributes: tuple[str, ...]  # keys of ATTRIBUTES used for titles and SKU variants
    topic: str  # the content topic most associated with this leaf


@dataclass(frozen=True)
class TopCategory:
    slug: str
    name: Text
    platform_fee_bps: int
    brands: tuple[Text, ...]
    leaves: tuple[Leaf, ...]


# Attribute kind -> (zh label, en label, values). The first value kinds used in a leaf's title; the
# last kind listed for a leaf varies across its SKUs.
ATTRIBUTES: dict[str, tuple[str, str, tuple[Text, ...]]] = {
    "colour": (
        "颜色",
        "colour",
        (
            ("黑色", "Black"),
            ("白色", "White"),
            ("米色", "Beige"),
            ("藏青", "Navy"),
            ("酒红", "Burgundy"),
            ("雾霾蓝", "Haze Blue"),
            ("燕麦色", "Oat"),
            ("粉色", "Pink"),
            ("军绿", "Army Green"),
            ("灰色", "Grey"),
        ),
    ),
    "size": ("尺码", "size", (("S", "S"), ("M", "M"), ("L", "L"), ("XL", "XL"), ("XXL", "XXL"))),
    "shoe_size": (
        "鞋码",
        "shoe size",
        (
            ("36", "36"),
            ("37", "37"),
            ("38", "38"),
            ("39", "39"),
            ("40", "40"),
            ("41", "41"),
            ("42", "42"),
            ("43", "43"),
        ),
    ),
    "material": (
        "材质",
        "material",
        (
            ("纯棉", "Cotton"),
            ("真丝", "Silk"),
            ("羊毛", "Wool"),
            ("亚麻", "Linen"),
            ("冰丝", "Ice Silk"),
            ("莫代尔", "Modal"),
            ("羊绒", "Cashmere"),
        ),
    ),
    "style": (
        "风格",
        "style",
        (
            ("韩版", "Korean-Style"),
            ("复古", "Retro"),
            ("通勤", "Commuter"),
            ("宽松", "Loose-Fit"),
            ("修身", "Slim-Fit"),
            ("国潮", "Guochao"),
        ),
    ),
    "shade": (
        "色号",
        "shade",
        (
            ("玫瑰", "Rose"),
            ("正红", "Classic Red"),
            ("豆沙", "Bean Paste"),
            ("枫叶", "Maple"),
            ("奶茶", "Milk Tea"),
            ("珊瑚", "Coral"),
        ),
    ),
    "skin": (
        "肤质",
        "skin type",
        (
            ("干皮", "Dry Skin"),
            ("油皮", "Oily Skin"),
            ("敏感肌", "Sensitive Skin"),
            ("混合肌", "Combination Skin"),
        ),
    ),
    "volume": (
        "容量",
        "volume",
        (("30ml", "30ml"), ("50ml", "50ml"), ("100ml", "100ml"), ("200ml", "200ml")),
    ),
    "flavour": (
        "口味",
        "flavour",
        (
            ("原味", "Original"),
            ("麻辣", "Spicy"),
            ("五香", "Five-Spice"),
            ("蜂蜜", "Honey"),
            ("抹茶", "Matcha"),
            ("海盐", "Sea Salt"),
            ("草莓", "Strawberry"),
            ("黑糖", "Brown Sugar"),
        ),
    ),
    "weight": (
        "规格",
        "pack",
        (("250g", "250g"), ("500g", "500g"), ("1kg", "1kg"), ("12袋装", "12-Pack"), ("24袋装", "24-Pack")),
    ),
    "origin": (
        "产地",
        "origin",
        (
            ("云南", "Yunnan"),
            ("新疆", "Xinjiang"),
            ("四川", "Sichuan"),
            ("福建", "Fujian"),
            ("内蒙古", "Inner Mongolia"),
            ("东北", "Northeast"),
        ),
    ),
    "capacity": (
        "容量",
        "capacity",
        (("1.5L", "1.5L"), ("3L", "3L"), ("5L", "5L"), ("500ml", "500ml"), ("1L", "1L")),
    ),
    "storage": (
        "存储",
        "storage",
        (("128GB", "128GB"), ("256GB", "256GB"), ("512GB", "512GB"), ("1TB", "1TB")),
    ),
    "power": ("功率", "power", (("20W", "20W"), ("65W", "65W"), ("1200W", "1200W"), ("2000W", "2000W"))),
    "age": (
        "适用年龄",
        "age",
        (("0-6月", "0-6 Months"), ("6-12月", "6-12 Months"), ("1-3岁", "1-3 Years"), ("3-6岁", "3-6 Years")),
    ),
    "feature": (
        "卖点",
        "feature",
        (
            ("轻薄", "Lightweight"),
            ("防水", "Waterproof"),
            ("速干", "Quick-Dry"),
            ("保暖", "Thermal"),
            ("静音", "Quiet"),
            ("便携", "Portable"),
            ("智能", "Smart"),
        ),
    ),
}


def _leaf(
    slug: str, name: Text, low: int, high: int, types: tuple[Text, ...], attrs: tuple[str, ...], topic: str
) -> Leaf:
    return Leaf(slug, name, (low, high), types, attrs, topic)


CATEGORIES: tuple[TopCategory, ...] = (
    TopCategory(
        "apparel",
        ("服饰内衣", "Apparel & Underwear"),
        500,
        (
            ("太平鸟", "Peacebird"),
            ("森马", "Semir"),
            ("波司登", "Bosideng"),
            ("江南布衣", "JNBY"),
            ("蕉内", "Bananain"),
            ("优衣库", "Uniqlo"),
            ("UR", "Urban Revivo"),
            ("茵曼", "Inman"),
        ),
        (
            _leaf(
                "womens-dresses",
                ("女装连衣裙", "Women's Dresses"),
                5900,
                59900,
                (("连衣裙", "Dress"), ("碎花裙", "Floral Dress"), ("吊带裙", "Slip Dress")),
                ("style", "colour", "size"),
                "outfit",
            ),
            _leaf(
                "womens-tops",
                ("女士上衣", "Women's Tops"),
                3900,
                29900,
                (("T恤", "T-Shirt"), ("衬衫", "Shirt"), ("针织衫", "Knit Top")),
                ("material", "colour", "size"),
                "outfit",
            ),
            _leaf(
                "mens-outerwear",
                ("男士外套", "Men's Outerwear"),
                12900,
                129900,
                (("羽绒服", "Down Jacket"), ("夹克", "Jacket"), ("风衣", "Trench Coat")),
                ("feature", "colour", "size"),
                "outfit",
            ),
            _leaf(
                "mens-trousers",
                ("男士裤装", "Men's Trousers"),
                5900,
                39900,
                (("休闲裤", "Chinos"), ("牛仔裤", "Jeans"), ("运动裤", "Joggers")),
                ("style", "colour", "size"),
                "outfit",
            ),
            _leaf(
                "underwear",
                ("内衣家居服", "Underwear & Loungewear"),
                2900,
                25900,
                (("文胸", "Bra"), ("睡衣套装", "Pyjama Set"), ("内裤", "Briefs")),
                ("material", "colour", "size"),
                "home-life",
            ),
            _leaf(
                "socks",
                ("袜子", "Socks"),
                990,
                6900,
                (("船袜", "Ankle Socks"), ("中筒袜", "Crew Socks")),
                ("material", "colour"),
                "outfit",
            ),
        ),
    ),
    TopCategory(
        "beauty",
        ("美妆个护", "Beauty & Personal Care"),
        600,
        (
            ("花西子", "Florasis"),
            ("完美日记", "Perfect Diary"),
            ("珀莱雅", "Proya"),
            ("薇诺娜", "Winona"),
            ("自然堂", "Chando"),
            ("百雀羚", "Pechoin"),
            ("橘朵", "Judydoll"),
            ("毛戈平", "Mao Geping"),
        ),
        (
            _leaf(
                "lipstick",
                ("口红唇彩", "Lipstick & Gloss"),
                4900,
                29900,
                (("雕花口红", "Carved Lipstick"), ("唇釉", "Lip Glaze"), ("丝绒唇泥", "Velvet Lip Mud")),
                ("shade",),
                "makeup",
            ),
            _leaf(
                "foundation",
                ("底妆", "Base Makeup"),
                7900,
                45900,
                (("粉底液", "Liquid Foundation"), ("气垫", "Cushion Compact"), ("散粉", "Loose Powder")),
                ("skin", "shade"),
                "makeup",
            ),
            _leaf(
                "serum",
                ("精华", "Serums"),
                9900,
                79900,
                (("精华液", "Serum"), ("安瓶", "Ampoule")),
                ("skin", "volume"),
                "skincare",
            ),
            _leaf(
                "cream",
                ("面霜乳液", "Creams & Lotions"),
                6900,
                59900,
                (("面霜", "Face Cream"), ("乳液", "Lotion"), ("眼霜", "Eye Cream")),
                ("skin", "volume"),
                "skincare",
            ),
            _leaf(
                "cleanser",
                ("洁面", "Cleansers"),
                2900,
                15900,
                (("洗面奶", "Facial Cleanser"), ("卸妆油", "Cleansing Oil")),
                ("skin", "volume"),
                "skincare",
            ),
            _leaf(
                "haircare",
                ("洗护发", "Hair Care"),
                2900,
                19900,
                (("洗发水", "Shampoo"), ("护发素", "Conditioner"), ("发膜", "Hair Mask")),
                ("volume",),
                "skincare",
            ),
        ),
    ),
    TopCategory(
        "food",
        ("食品饮料", "Food & Beverages"),
        300,
        (
            ("三只松鼠", "Three Squirrels"),
            ("良品铺子", "Bestore"),
            ("李子柒", "Liziqi"),
            ("元气森林", "Genki Forest"),
            ("白象", "Baixiang"),
            ("东方树叶", "Oriental Leaf"),
            ("认养一头牛", "Adopt A Cow"),
            ("卫龙", "Weilong"),
        ),
        (
            _leaf(
                "snacks",
                ("休闲零食", "Snacks"),
                990,
                9900,
                (("坚果礼盒", "Nut Gift Box"), ("牛肉干", "Beef Jerky"), ("辣条", "Spicy Strips")),
                ("flavour", "weight"),
                "food",
            ),
            _leaf(
                "instant",
                ("方便速食", "Instant Food"),
                1290,
                8900,
                (
                    ("螺蛳粉", "Luosifen Noodles"),
                    ("方便面", "Instant Noodles"),
                    ("自热火锅", "Self-Heating Hotpot"),
                ),
                ("flavour", "weight"),
                "food",
            ),
            _leaf(
                "tea",
                ("茶叶", "Tea"),
                3900,
                99900,
                (("普洱茶", "Pu'er Tea"), ("白茶", "White Tea"), ("乌龙茶", "Oolong Tea")),
                ("origin", "weight"),
                "food",
            ),
            _leaf(
                "drinks",
                ("饮料冲调", "Drinks"),
                1990,
                12900,
                (("气泡水", "Sparkling Water"), ("燕麦奶", "Oat Milk"), ("挂耳咖啡", "Drip Coffee")),
                ("flavour", "weight"),
                "food",
            ),
            _leaf(
                "fresh",
                ("生鲜水果", "Fresh Produce"),
                2990,
                19900,
                (("脐橙", "Navel Oranges"), ("牛排", "Steak"), ("大米", "Rice")),
                ("origin", "weight"),
                "food",
            ),
        ),
    ),
    TopCategory(
        "home",
        ("家居日用", "Home & Daily Use"),
        400,
        (
            ("网易严选", "NetEase Yanxuan"),
            ("名创优品", "Miniso"),
            ("水星家纺", "Mercury Home"),
            ("富安娜", "Fuanna"),
            ("茶花", "Chahua"),
            ("洁柔", "C&S"),
            ("苏泊尔", "Supor"),
            ("维达", "Vinda"),
        ),
        (
            _leaf(
                "bedding",
                ("床上用品", "Bedding"),
                9900,
                99900,
                (("四件套", "Four-Piece Bed Set"), ("蚕丝被", "Silk Duvet"), ("乳胶枕", "Latex Pillow")),
                ("material", "colour"),
                "home-life",
            ),
            _leaf(
                "storage",
                ("收纳整理", "Storage"),
                1990,
                15900,
                (("收纳箱", "Storage Box"), ("衣架", "Hangers"), ("置物架", "Shelf")),
                ("feature", "colour"),
                "home-life",
            ),
            _leaf(
                "kitchen",
                ("厨具", "Kitchenware"),
                3900,
                59900,
                (("不粘锅", "Non-Stick Pan"), ("保温杯", "Vacuum Flask"), ("刀具套装", "Knife Set")),
                ("feature", "capacity"),
                "cooking",
            ),
            _leaf(
                "cleaning",
                ("清洁用品", "Cleaning"),
                990,
                8900,
                (("抽纸", "Tissues"), ("洗衣凝珠", "Laundry Pods"), ("拖把", "Mop")),
                ("feature", "weight"),
                "home-life",
            ),
            _leaf(
                "decor",
                ("家居饰品", "Home Decor"),
                2900,
                39900,
                (("香薰", "Aroma Diffuser"), ("地毯", "Rug"), ("台灯", "Desk Lamp")),
                ("style", "colour"),
                "home-life",
            ),
        ),
    ),
    TopCategory(
        "digital",
        ("数码家电", "Digital & Appliances"),
        200,
        (
            ("小米", "Xiaomi"),
            ("华为", "Huawei"),
            ("美的", "Midea"),
            ("格力", "Gree"),
            ("九阳", "Joyoung"),
            ("安克", "Anker"),
            ("大疆", "DJI"),
            ("漫步者", "Edifier"),
        ),
        (
            _leaf(
                "phones",
                ("手机", "Phones"),
                99900,
                899900,
                (("智能手机", "Smartphone"), ("折叠屏手机", "Foldable Phone")),
                ("colour", "storage"),
                "gadgets",
            ),
            _leaf(
                "audio",
                ("耳机音响", "Audio"),
                9900,
                199900,
                (
                    ("蓝牙耳机", "Bluetooth Earbuds"),
                    ("降噪耳机", "Noise-Cancelling Headphones"),
                    ("音箱", "Speaker"),
                ),
                ("feature", "colour"),
                "gadgets",
            ),
            _leaf(
                "chargers",
                ("充电配件", "Chargers"),
                2900,
                29900,
                (("充电宝", "Power Bank"), ("快充头", "Fast Charger"), ("数据线", "Charging Cable")),
                ("power", "colour"),
                "gadgets",
            ),
            _leaf(
                "kitchen-appliances",
                ("厨房电器", "Kitchen Appliances"),
                9900,
                199900,
                (("空气炸锅", "Air Fryer"), ("电饭煲", "Rice Cooker"), ("破壁机", "Blender")),
                ("feature", "capacity"),
                "cooking",
            ),
            _leaf(
                "home-appliances",
                ("生活电器", "Home Appliances"),
                12900,
                399900,
                (("扫地机器人", "Robot Vacuum"), ("吹风机", "Hair Dryer"), ("加湿器", "Humidifier")),
                ("feature", "power"),
                "gadgets",
            ),
        ),
    ),
    TopCategory(
        "baby",
        ("母婴", "Mother & Baby"),
        400,
        (
            ("飞鹤", "Feihe"),
            ("帮宝适", "Pampers"),
            ("好孩子", "Goodbaby"),
            ("巴拉巴拉", "Balabala"),
            ("贝亲", "Pigeon"),
            ("全棉时代", "Purcotton"),
        ),
        (
            _leaf(
                "formula",
                ("奶粉", "Infant Formula"),
                15900,
                59900,
                (("婴儿奶粉", "Infant Formula"), ("成长奶粉", "Growing-Up Milk")),
                ("age", "weight"),
                "parenting",
            ),
            _leaf(
                "diapers",
                ("纸尿裤", "Diapers"),
                6900,
                29900,
                (("纸尿裤", "Diapers"), ("拉拉裤", "Pull-Ups")),
                ("feature", "size"),
                "parenting",
            ),
            _leaf(
                "kids-clothing",
                ("童装", "Kids' Clothing"),
                3900,
                29900,
                (("儿童外套", "Kids' Jacket"), ("连体衣", "Romper"), ("童鞋", "Kids' Shoes")),
                ("material", "colour", "age"),
                "parenting",
            ),
            _leaf(
                "toys",
                ("玩具", "Toys"),
                2900,
                49900,
                (("积木", "Building Blocks"), ("毛绒玩具", "Plush Toy"), ("早教机", "Learning Toy")),
                ("feature", "age"),
                "parenting",
            ),
        ),
    ),
    TopCategory(
        "sports",
        ("运动户外", "Sports & Outdoors"),
        400,
        (
            ("李宁", "Li-Ning"),
            ("安踏", "Anta"),
            ("特步", "Xtep"),
            ("鸿星尔克", "Erke"),
            ("骆驼", "Camel"),
            ("迪卡侬", "Decathlon"),
            ("Keep", "Keep"),
        ),
        (
            _leaf(
                "running-shoes",
                ("运动鞋", "Sports Shoes"),
                19900,
                129900,
                (("跑步鞋", "Running Shoes"), ("篮球鞋", "Basketball Shoes"), ("板鞋", "Skate Shoes")),
                ("colour", "shoe_size"),
                "fitness",
            ),
            _leaf(
                "sportswear",
                ("运动服", "Sportswear"),
                5900,
                49900,
                (("运动T恤", "Sports T-Shirt"), ("瑜伽裤", "Yoga Leggings"), ("卫衣", "Hoodie")),
                ("feature", "colour", "size"),
                "fitness",
            ),
            _leaf(
                "camping",
                ("露营装备", "Camping"),
                9900,
                199900,
                (("帐篷", "Tent"), ("折叠椅", "Folding Chair"), ("睡袋", "Sleeping Bag")),
                ("feature", "colour"),
                "outdoors",
            ),
            _leaf(
                "fitness-gear",
                ("健身器材", "Fitness Gear"),
                2900,
                99900,
                (("瑜伽垫", "Yoga Mat"), ("哑铃", "Dumbbells"), ("跳绳", "Jump Rope")),
                ("feature", "colour"),
                "fitness",
            ),
            _leaf(
                "cycling",
                ("骑行", "Cycling"),
                9900,
                299900,
                (("骑行头盔", "Cycling Helmet"), ("公路车", "Road Bike")),
                ("feature", "colour"),
                "outdoors",
            ),
        ),
    ),
)

# Content topics: slug -> (zh, en). Every leaf points at one; creators' niches are topics.
TOPICS: dict[str, Text] = {
    "outfit": ("穿搭", "Outfits"),
    "makeup": ("美妆教程", "Makeup"),
    "skincare": ("护肤", "Skincare"),
    "food": ("美食探店", "Food"),
    "cooking": ("家常菜", "Home Cooking"),
    "home-life": ("居家好物", "Home Finds"),
    "gadgets": ("数码测评", "Gadget Reviews"),
    "parenting": ("育儿", "Parenting"),
    "fitness": ("健身", "Fitness"),
    "outdoors": ("户外露营", "Outdoors"),
}

# Creators' niches are topics; a niche's label is the topic's.
NICHES: tuple[str, ...] = tuple(TOPICS)

# Search synonyms: a query term -> other terms that mean the same product (both languages).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "口红": ("唇膏", "唇彩", "lipstick"),
    "粉底液": ("粉底", "foundation"),
    "羽绒服": ("羽绒外套", "down jacket", "puffer"),
    "蓝牙耳机": ("无线耳机", "earbuds", "tws"),
    "充电宝": ("移动电源", "power bank"),
    "空气炸锅": ("炸锅", "air fryer"),
    "纸尿裤": ("尿不湿", "diapers", "nappies"),
    "跑步鞋": ("跑鞋", "running shoes", "trainers"),
    "瑜伽裤": ("鲨鱼裤", "leggings"),
    "四件套": ("床品套件", "bedding set"),
    "保温杯": ("水杯", "thermos", "flask"),
    "螺蛳粉": ("柳州螺蛳粉", "luosifen"),
    "连衣裙": ("裙子", "dress"),
    "T恤": ("短袖", "tee", "t-shirt"),
    "牛仔裤": ("丹宁裤", "jeans", "denim"),
    "扫地机器人": ("扫地机", "robot vacuum", "roomba"),
}

# Title templates for content, per kind: {product} is a product type, {topic} a topic label.
VIDEO_TEMPLATES: tuple[Text, ...] = (
    ("{topic}｜这款{product}真的绝了", "{topic}: this {product} is amazing"),
    ("{product}测评，{topic}必看", "{product} review, a must for {topic}"),
    ("三分钟教你挑{product}", "How to pick a {product} in three minutes"),
    ("平价{product}大合集", "Affordable {product} roundup"),
    ("{topic}日常｜我的{product}分享", "{topic} diary: my {product}"),
)
LIVE_TEMPLATES: tuple[Text, ...] = (
    ("{topic}专场直播｜{product}福利价", "{topic} live: {product} deals"),
    ("今晚8点 {product}源头好货", "Tonight 8pm: {product} straight from the source"),
    ("{topic}好物直播间", "{topic} finds live room"),
)

SHOP_SUFFIXES: tuple[Text, ...] = (
    ("官方旗舰店", "Official Flagship Store"),
    ("旗舰店", "Flagship Store"),
    ("专卖店", "Specialty Store"),
    ("严选店", "Select Store"),
    ("工厂店", "Factory Store"),
    ("好物馆", "Goods Hall"),
)

SURNAMES: tuple[Text, ...] = (
    ("王", "Wang"),
    ("李", "Li"),
    ("张", "Zhang"),
    ("刘", "Liu"),
    ("陈", "Chen"),
    ("杨", "Yang"),
    ("赵", "Zhao"),
    ("黄", "Huang"),
    ("周", "Zhou"),
    ("吴", "Wu"),
    ("徐", "Xu"),
    ("孙", "Sun"),
    ("胡", "Hu"),
    ("朱", "Zhu"),
)
GIVEN_NAMES: tuple[Text, ...] = (
    ("小美", "Xiaomei"),
    ("阿杰", "Ajie"),
    ("欣怡", "Xinyi"),
    ("子轩", "Zixuan"),
    ("雨桐", "Yutong"),
    ("浩然", "Haoran"),
    ("思琪", "Siqi"),
    ("一诺", "Yinuo"),
    ("梓涵", "Zihan"),
    ("俊熙", "Junxi"),
)

# Campaigns: slug, names, the day of the simulated period it opens, how many days it runs,
# subsidy per item (fen) and budget (fen). 618 and 双11 are the two big shopping festivals.
CAMPAIGNS: tuple[tuple[str, Text, int, int, int, int], ...] = (
    ("mid-year-618", ("618 年中大促", "618 Mid-Year Sale"), 5, 4, 500, 5_000_000),
    ("double-11", ("双11 狂欢节", "Double 11 Festival"), 18, 5, 1000, 10_000_000),
)
