"""Strings of the creator's showcase (商品橱窗), the selection plaza (选品广场) and the creator's public
page (issue #16, item 1a)."""

PAIRS = {
    # creator console navigation
    "console.nav.plaza": ("选品广场", "Selection plaza"),
    "console.nav.showcase": ("商品橱窗", "My showcase"),
    # the older plans page keeps the applications; the plaza is its own page now
    "console.nav.plans": ("计划与申请", "Plans and applications"),
    # the plaza
    "creator.plaza.title": ("选品广场", "Selection plaza"),
    "creator.plaza.sub": (
        "搜索可带货的商品（支持中文、拼音和首字母），按佣金、价格、店铺体验分和销量筛选，加入橱窗或申请定向计划。",
        "Find products to promote (Chinese, pinyin or initials), filter by commission, price, shop score "
        "and sales, then add them to your showcase or apply to a targeted plan.",
    ),
    "creator.plaza.q": ("搜索商品", "Search products"),
    "creator.plaza.q_hint": ("如：连衣裙、lianyiqun、lyq", "e.g. 连衣裙, lianyiqun, lyq, dress"),
    "creator.plaza.rate": ("佣金率", "Commission rate"),
    "creator.plaza.rate_min": ("最低佣金率（%）", "Lowest commission rate (%)"),
    "creator.plaza.rate_max": ("最高佣金率（%）", "Highest commission rate (%)"),
    "creator.plaza.price": ("售价", "Price"),
    "creator.plaza.price_min": ("最低售价（元）", "Lowest price (yuan)"),
    "creator.plaza.price_max": ("最高售价（元）", "Highest price (yuan)"),
    "creator.plaza.min": ("最低", "min"),
    "creator.plaza.max": ("最高", "max"),
    "creator.plaza.score_min": ("店铺体验分不低于", "Shop score at least"),
    "creator.plaza.sales_min": ("销量不低于", "Sales at least"),
    "creator.plaza.bad_range": ("最低值不能高于最高值", "The lowest value is above the highest"),
    "creator.plaza.sort.relevance": ("最相关", "Best match"),
    "creator.plaza.sort.newest": ("最新上架", "Newest plans"),
    "creator.plaza.sort.commission_rate": ("佣金率从高到低", "Commission rate, highest first"),
    "creator.plaza.sort.commission_per_sale": ("每单预估佣金从高到低", "Commission per sale, highest first"),
    "creator.plaza.sort.sales": ("销量从高到低", "Sales, highest first"),
    "creator.plaza.sort.price_asc": ("价格从低到高", "Price, lowest first"),
    "creator.plaza.sort.price_desc": ("价格从高到低", "Price, highest first"),
    "creator.plaza.sort.shop_score": ("店铺体验分从高到低", "Shop score, highest first"),
    "creator.plaza.search": ("搜索", "Search"),
    "creator.plaza.clear": ("清除筛选", "Clear filters"),
    "creator.plaza.truncated": (
        "匹配的商品太多，只显示最相关的前 2000 个；换个更具体的词试试。",
        "Too many products match: only the 2,000 best matches are listed. Try a more specific word.",
    ),
    "creator.plaza.none": ("没有符合条件的商品，换个关键词或放宽筛选试试。", "Nothing matches. Try another word or fewer filters."),
    "creator.plaza.col.plan": ("推广计划", "Plan"),
    "creator.plaza.col.sales": ("销量", "Sold"),
    "creator.plaza.score": ("体验分 {score}", "Score {score}"),
    "creator.plaza.in_showcase": ("已在橱窗", "In your showcase"),
    "creator.plaza.add": ("加入橱窗", "Add to showcase"),
    "creator.plaza.sample": ("申请寄样", "Request a sample"),
    "creator.plaza.rules.open": (
        "普通计划：所有达人都可推广，无需申请，按此佣金率结算。",
        "Open plan: any creator may promote it, no application needed; you earn this rate.",
    ),
    "creator.plaza.rules.targeted": (
        "定向计划：仅受邀或申请通过的达人可推广，佣金高于普通计划；需申请，商家审核。",
        "Targeted plan: only invited or approved creators earn this higher rate; apply and the shop decides.",
    ),
    "creator.plaza.rules.exclusive": (
        "专属计划：商家只与指定达人合作，其他达人不能推广；你已在名单中。",
        "Exclusive plan: the shop works only with the creators it named; you are one of them.",
    ),
    # my showcase
    "creator.showcase.title": ("商品橱窗", "My showcase"),
    "creator.showcase.sub": (
        "粉丝在你的主页看到这些商品，通过橱窗下单你可获得佣金。最多 {limit} 件。",
        "Your followers see these products on your page, and you earn commission on what they buy "
        "from it. Up to {limit} products.",
    ),
    "creator.showcase.find": ("去选品广场选品", "Find products in the plaza"),
    "creator.showcase.as_fans_see": ("查看粉丝看到的橱窗", "See it as your followers do"),
    "creator.showcase.empty": (
        "橱窗还是空的：去选品广场挑选商品加入橱窗吧。",
        "Your showcase is empty: add products from the selection plaza.",
    ),
    "creator.showcase.count": ("共 {total} 件，粉丝可见 {shown} 件", "{shown} of {total} shown to your followers"),
    "creator.showcase.col.status": ("粉丝可见", "Shown"),
    "creator.showcase.visible": ("展示中", "Shown"),
    "creator.showcase.hidden": ("暂不展示", "Not shown"),
    "creator.showcase.reason.product_off_sale": ("商品已下架", "The product is off sale"),
    "creator.showcase.reason.no_active_plan": ("推广计划已结束", "Its affiliate plan has ended"),
    "creator.showcase.reason.exclusive_to_others": (
        "商家改为专属计划，你不在名单中",
        "The shop now has an exclusive plan that does not name you",
    ),
    "creator.showcase.reason.targeted_not_listed": (
        "仅限定向计划的达人推广，请先申请",
        "Only the targeted plan's creators may promote it: apply first",
    ),
    "creator.showcase.filter": ("按是否展示筛选", "Filter by shown or not"),
    "creator.showcase.filter.visible": ("展示中", "Shown"),
    "creator.showcase.filter.hidden": ("暂不展示", "Not shown"),
    "creator.showcase.filter_empty": ("没有符合条件的商品", "No products match this filter"),
    "creator.showcase.up": ("上移", "Move up"),
    "creator.showcase.down": ("下移", "Move down"),
    "creator.showcase.remove": ("移出橱窗", "Remove"),
    "creator.showcase.added": ("已加入橱窗", "Added to your showcase"),
    "creator.showcase.moved": ("已调整顺序", "Order changed"),
    "creator.showcase.removed": ("已移出橱窗", "Removed from your showcase"),
    # refusals
    "err.not_promotable": (
        "这件商品暂不能加入橱窗：没有你可用的推广计划，或商品已下架。",
        "This product cannot go in your showcase: no plan lets you promote it, or it is off sale.",
    ),
    "err.already_in_showcase": ("这件商品已在橱窗中", "This product is already in your showcase"),
    "err.showcase_full": ("橱窗已满，请先移出一些商品", "Your showcase is full: remove a product first"),
    "err.showcase_item_not_found": ("橱窗中没有这件商品", "This product is not in your showcase"),
    # the creator's public page
    "account.showcase": ("橱窗", "Showcase"),
    "account.showcase_empty": ("橱窗里还没有商品", "No products in this showcase yet"),
    "account.works": ("作品", "Videos and lives"),
    "account.no_works": ("还没有作品", "Nothing published yet"),
    "account.kind.short_video": ("视频", "Video"),
    "account.kind.live": ("直播", "Live"),
    "compass.channel.showcase": ("橱窗", "Showcase"),
    "console.group.selection": ("选品带货", "Products to promote"),
}
