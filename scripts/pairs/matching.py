"""Creator–product matching (issue #16, item 3): recommended products for creators, recommended
creators for a merchant's product, and the reasons behind each."""

PAIRS = {
    "console.nav.recommended": ("为你推荐", "Recommended for you"),
    "console.nav.creator_match": ("达人匹配", "Creator match"),
    "match.why": ("推荐理由", "Why"),
    # The creator's page.
    "creator.recommended.title": ("为你推荐的商品", "Products recommended for you"),
    "creator.recommended.sub": (
        "按你的粉丝和买家爱买的品类、你常推的内容、佣金和店铺体验分挑选，每件都写明了理由。",
        "Picked by what your followers and buyers like to buy, what you usually promote, the commission and the shop's experience score. Each one says why.",
    ),
    "creator.recommended.empty": (
        "暂时没有可推荐的商品：选品广场里还没有你能带货的新商品。",
        "Nothing to recommend yet: the plaza has no new products you can promote.",
    ),
    "creator.recommended.apply": ("申请定向佣金 {rate}", "Apply for the {rate} targeted rate"),
    "creator.recommended.note": (
        "这些商品都有普通计划，现在就能挂车带货；想看全部计划，去",
        "Every product here has an open plan, so you can anchor it now. To see every plan, go to",
    ),
    "match.creator.audience_category": (
        "你的受众有 {share} 的购买在「{category}」",
        "{share} of your audience's purchases are in {category}",
    ),
    "match.creator.content_topic": ("你推广过 {n} 件「{category}」商品", "{category} products you have promoted: {n}"),
    "match.creator.buyers_follow": ("{n} 位买过它的用户关注了你", "{n} of its buyers follow you"),
    "match.creator.similar_creators": ("{n} 位和你相似的达人卖出过它", "{n} creators like you have sold it"),
    "match.creator.price_fit": (
        "价格贴近你的受众常买的价位（约 {price}）",
        "Priced like what your audience buys (about {price})",
    ),
    "match.creator.commission": ("佣金率 {rate}", "Commission {rate}"),
    "match.creator.shop_score": ("店铺体验分 {score}", "Shop experience score {score}"),
    "match.creator.category_gmv": ("你在「{category}」已带货 {gmv}", "You have sold {gmv} in {category}"),
    "match.creator.conversion": ("你的内容平均每条带来 {n} 单", "Your content brings {n} orders per item"),
    # The merchant's page.
    "match.merchant.title": ("达人匹配", "Creator match"),
    "match.merchant.sub": (
        "为你的商品找粉丝爱买这一品类的达人：看受众、同品类带货、内容转化和常卖价位，每位都写明了理由。",
        "Find creators whose followers buy this kind of product: audience, sales in the category, how well their content converts and the prices they sell at. Each one says why.",
    ),
    "match.merchant.no_products": (
        "店铺还没有在售商品。先上架商品，再来找达人。",
        "The shop has no products on sale yet. List a product first, then find creators for it.",
    ),
    "match.merchant.product": ("商品", "Product"),
    "match.merchant.show": ("查看推荐达人", "Show creators"),
    "match.merchant.has_targeted": (
        "这件商品有定向计划（佣金 {rate}）：点“邀请”把达人加入计划。",
        "This product has a targeted plan ({rate} commission): “Invite” lists a creator on it.",
    ),
    "match.merchant.open_only": (
        "这件商品只有普通计划（佣金 {rate}）：邀请达人会为 TA 新建一个佣金更高的定向计划。",
        "This product has an open plan only ({rate} commission): inviting a creator opens a targeted plan for them at a higher rate.",
    ),
    "match.merchant.no_plan": (
        "这件商品还没有带货计划，达人暂时不能推广它；先创建普通计划。",
        "This product has no affiliate plan yet, so no creator can promote it; create an open plan first.",
    ),
    "match.merchant.empty": ("暂时没有可推荐的达人。", "No creators to recommend yet."),
    "match.merchant.not_yours": ("没有找到这件商品，或它不在售。", "This product was not found or is not on sale."),
    "match.merchant.col.creator": ("达人", "Creator"),
    "match.merchant.col.followers": ("粉丝", "Followers"),
    "match.merchant.top_kol": ("头部达人", "Top KOL"),
    "match.merchant.on_plan": ("已在定向计划中", "On the targeted plan"),
    "match.merchant.invite": ("邀请", "Invite"),
    "match.merchant.rate": ("定向佣金", "Targeted rate"),
    "match.merchant.invite_targeted": ("邀请并新建定向计划", "Invite with a targeted plan"),
    "match.merchant.invited": ("已邀请达人加入定向计划。", "The creator is invited to the targeted plan."),
    "match.merchant.audience_category": (
        "TA 的受众有 {share} 的购买在「{category}」",
        "{share} of their audience's purchases are in {category}",
    ),
    "match.merchant.content_topic": ("TA 推广过 {n} 件「{category}」商品", "{category} products they have promoted: {n}"),
    "match.merchant.buyers_follow": ("{n} 位买过这件商品的用户关注了 TA", "{n} of this product's buyers follow them"),
    "match.merchant.similar_creators": ("{n} 位相似的达人卖出过它", "{n} similar creators have sold it"),
    "match.merchant.price_fit": (
        "TA 的受众常买价位约 {price}，与商品相近",
        "Their audience usually pays about {price}, close to this price",
    ),
    "match.merchant.commission": ("佣金率 {rate}", "Commission {rate}"),
    "match.merchant.shop_score": ("店铺体验分 {score}", "Shop experience score {score}"),
    "match.merchant.category_gmv": ("TA 在「{category}」已带货 {gmv}", "They have sold {gmv} in {category}"),
    "match.merchant.conversion": ("TA 的内容平均每条带来 {n} 单", "Their content brings {n} orders per item"),
    "err.invalid_limit": ("数量需在 1 到 50 之间。", "The number must be 1 to 50."),
}
