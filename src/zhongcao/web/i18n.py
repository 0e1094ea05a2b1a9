"""The pages' message catalog (zh-CN and en) and how a request's language is chosen.

Every string a page shows comes from :data:`MESSAGES` (domain data carries its own ``*_zh`` /
``*_en`` columns). Entries are written as ``key: (中文, English)`` pairs so that a message cannot
exist in one language only; :data:`MESSAGES` is the per-locale dict built from them. Messages use
``str.format`` fields: ``t("cart.count", n=3)``.

The language is, in order: the ``zc_locale`` cookie (set by the visible switch), the
``Accept-Language`` header's best zh/en match, Chinese.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from zhongcao.web.i18n_console import PAIRS as CONSOLE_PAIRS

log = logging.getLogger("zhongcao.web")

LOCALES = ("zh", "en")
DEFAULT_LOCALE = "zh"
LOCALE_COOKIE = "zc_locale"
HTML_LANG = {"zh": "zh-CN", "en": "en"}
LOCALE_NAMES = {"zh": "中文", "en": "English"}

_PAIRS: dict[str, tuple[str, str]] = {
    # --- site chrome ---
    "site.name": ("种草", "zhongcao"),
    "site.tagline": ("发现好物的内容电商", "Interest commerce: find what you love"),
    "nav.main": ("主导航", "Main navigation"),
    "nav.feed": ("推荐", "For you"),
    "nav.mall": ("商城", "Mall"),
    "nav.search": ("搜索", "Search"),
    "nav.cart": ("购物车", "Cart"),
    "nav.orders": ("订单", "Orders"),
    "nav.me": ("我的", "Me"),
    "nav.skip": ("跳到主要内容", "Skip to main content"),
    "locale.switch": ("切换语言", "Change language"),
    "auth.login": ("登录", "Sign in"),
    "auth.logout": ("退出", "Sign out"),
    "auth.signed_in_as": ("已登录：{name}", "Signed in as {name}"),
    "auth.title": ("登录种草", "Sign in to zhongcao"),
    "auth.email": ("邮箱", "Email"),
    "auth.password": ("密码", "Password"),
    "auth.submit": ("登录", "Sign in"),
    "auth.invalid": ("邮箱或密码不正确", "The email or password is wrong"),
    "auth.disabled": ("该账号已停用", "This account is disabled"),
    "auth.demo_hint": (
        "演示账号：shopper@demo.zhongcao.example.com，密码 zhongcao-demo",
        "Demo login: shopper@demo.zhongcao.example.com, password zhongcao-demo",
    ),
    "auth.need_login": ("请先登录", "Please sign in first"),
    "auth.logged_out": ("已退出登录", "You are signed out"),
    "auth.welcome_back": ("欢迎回来", "Welcome back"),
    # --- forms ---
    "form.required": ("请填写此项", "This field is required"),
    "form.too_long": ("最多 {n} 个字符", "At most {n} characters"),
    "form.invalid_phone": ("请输入有效的手机号", "Enter a valid phone number"),
    "form.invalid_email": ("请输入有效的邮箱", "Enter a valid email address"),
    "form.invalid_number": ("请输入数字", "Enter a number"),
    "form.fix_errors": ("请修改标出的内容后再提交", "Please fix the marked fields and try again"),
    "form.stale": (
        "页面已过期，请重新提交",
        "This page had expired; please submit again",
    ),
    "form.optional": ("选填", "optional"),
    # --- errors ---
    "error.title": ("出错了", "Something went wrong"),
    "error.404.title": ("页面不存在", "Page not found"),
    "error.404.body": (
        "你要找的页面不存在，或已下架。",
        "The page you are looking for does not exist or is no longer available.",
    ),
    "error.403.title": ("无权访问", "Not allowed"),
    "error.403.body": (
        "当前账号不能打开这个页面。",
        "Your account cannot open this page.",
    ),
    "error.500.title": ("服务器开小差了", "Something broke on our side"),
    "error.500.body": (
        "我们已记录这个问题，请稍后再试。",
        "We have logged the problem. Please try again in a moment.",
    ),
    "error.other.body": ("请求无法完成。", "The request could not be completed."),
    "error.home": ("回到首页", "Back to the home page"),
    "error.back": ("返回上一页", "Go back"),
    # --- money and common words ---
    "common.more": ("查看更多", "See more"),
    "common.save": ("保存", "Save"),
    "common.submit": ("提交", "Submit"),
    "common.cancel": ("取消", "Cancel"),
    "common.remove": ("删除", "Remove"),
    "common.update": ("更新", "Update"),
    "common.quantity": ("数量", "Quantity"),
    "common.price": ("价格", "Price"),
    "common.total": ("合计", "Total"),
    "common.sold": ("已售 {n}", "{n} sold"),
    "common.followers": ("{n} 粉丝", "{n} followers"),
    "common.likes": ("{n} 赞", "{n} likes"),
    "common.in_stock": ("有货", "In stock"),
    "common.out_of_stock": ("已售罄", "Sold out"),
    "common.not_on_sale": ("已下架", "No longer on sale"),
    "common.live": ("直播中", "LIVE"),
    "common.video": ("短视频", "Video"),
    "common.shop": ("店铺", "Shop"),
    "common.creator": ("达人", "Creator"),
    "common.top_kol": ("头部达人", "Top KOL"),
    "common.next_page": ("下一页", "Next page"),
    "common.none": ("暂无", "None yet"),
    # --- feed ---
    "feed.title": ("推荐", "For you"),
    "feed.heading": ("为你推荐", "Picked for you"),
    "feed.popular_heading": ("最新种草", "Latest picks"),
    "feed.trending_heading": ("大家都在看", "Trending now"),
    "feed.popular_note": (
        "个性化推荐还在准备中，先看看最新内容。",
        "Personal picks are still being prepared; here is what is new.",
    ),
    "feed.anon_note": (
        "登录后获得为你定制的推荐。",
        "Sign in for a feed made for you.",
    ),
    "feed.empty": ("还没有可以看的内容。", "Nothing to watch yet."),
    "feed.buy": ("去购买", "Buy"),
    "feed.watch_live": ("进入直播间", "Join the live room"),
    "feed.by": ("来自 {name}", "by {name}"),
    "feed.anchored": ("视频同款", "From this video"),
    "feed.anchored_live": ("直播间好物", "In this live"),
    "feed.product_card": ("为你挑选", "Picked for you"),
    "feed.more": ("换一批", "Show more"),
    "feed.reason": ("推荐理由：{reason}", "Why: {reason}"),
    # --- live ---
    "live.title": ("直播间", "Live room"),
    "live.viewers": ("{n} 人在看", "{n} watching"),
    "live.pinned": ("讲解中", "On stage now"),
    "live.products": ("直播商品", "Products in this live"),
    "live.all_products": ("全部商品", "All products"),
    "live.ticker": ("实时购买", "Just bought"),
    "live.ticker_empty": ("还没有人下单，来抢第一单吧。", "No orders yet: be the first."),
    "live.bought": ("{who} 买了 {n} 件 {title}", "{who} bought {n} × {title}"),
    "live.ended": ("直播已结束", "This live has ended"),
    "live.scheduled": ("直播即将开始", "This live has not started yet"),
    "live.reconnecting": ("连接中断，正在重连…", "Connection lost, reconnecting…"),
    "live.someone": ("某位用户", "Someone"),
    # --- search ---
    "search.title": ("搜索", "Search"),
    "search.label": ("搜索商品", "Search products"),
    "search.placeholder": ("搜索商品、品牌", "Search products and brands"),
    "search.submit": ("搜索", "Search"),
    "search.results": ("共 {n} 件商品", "{n} products"),
    "search.no_results": (
        "没有找到“{q}”相关的商品。",
        "No products match “{q}”.",
    ),
    "search.fallback_popular": (
        "没有完全匹配的商品，为你展示热门商品。",
        "Nothing matched exactly; here are popular products.",
    ),
    "search.did_you_mean": ("你是不是要找：", "Did you mean:"),
    "search.sort": ("排序", "Sort"),
    "search.sort.relevance": ("综合", "Relevance"),
    "search.sort.sales": ("销量", "Best selling"),
    "search.sort.price_asc": ("价格从低到高", "Price: low to high"),
    "search.sort.price_desc": ("价格从高到低", "Price: high to low"),
    "search.sort.newest": ("最新", "Newest"),
    "search.filters": ("筛选", "Filters"),
    "search.facet.category": ("类目", "Category"),
    "search.facet.brand": ("品牌", "Brand"),
    "search.facet.shop": ("店铺", "Shop"),
    "search.facet.in_stock": ("库存", "Stock"),
    "search.facet.price": ("价格（元）", "Price (yuan)"),
    "search.price_min": ("最低价", "Min price"),
    "search.price_max": ("最高价", "Max price"),
    "search.in_stock_only": ("仅看有货", "In stock only"),
    "search.apply": ("应用筛选", "Apply filters"),
    "search.clear": ("清除筛选", "Clear filters"),
    "search.suggestions": ("搜索建议", "Suggestions"),
    "search.price_range_error": ("最低价不能高于最高价", "The minimum price is above the maximum"),
    # --- mall ---
    "mall.title": ("商城", "Mall"),
    "mall.buy_again": ("再次购买", "Buy again"),
    "mall.categories": ("分类", "Categories"),
    "mall.recommended": ("猜你喜欢", "Recommended for you"),
    "mall.popular": ("热销好物", "Best sellers"),
    "mall.new_from_followed": ("关注店铺上新", "New from shops you follow"),
    "mall.campaign_subsidy": ("每件立减 {amount}", "{amount} off each"),
    "mall.campaign_ends": ("截至 {date}", "Ends {date}"),
    "mall.empty": ("商城还没有商品。", "The mall has no products yet."),
    # --- shop ---
    "shop.follow": ("关注", "Follow"),
    "shop.unfollow": ("已关注", "Following"),
    "shop.followed": ("已关注该店铺", "You follow this shop"),
    "shop.unfollowed": ("已取消关注", "You no longer follow this shop"),
    "shop.products": ("全部商品", "All products"),
    "shop.score": ("体验分", "Experience score"),
    "shop.score_value": ("体验分 {score}", "Experience {score}"),
    "shop.score_none": ("暂无体验分", "Not scored yet"),
    "shop.score_help": (
        "店铺体验分由商品、物流和服务表现计算，满分 5 分。",
        "The experience score rates products, logistics and service, out of 5.",
    ),
    "shop.score.product": ("商品", "Products"),
    "shop.score.logistics": ("物流", "Logistics"),
    "shop.score.service": ("服务", "Service"),
    "shop.no_products": ("这家店还没有在售商品。", "This shop has nothing on sale yet."),
    "shop.shipping_free_over": ("满 {amount} 包邮", "Free shipping over {amount}"),
    "shop.shipping_fee": ("运费 {amount}", "Shipping {amount}"),
    "shop.shipping_free": ("包邮", "Free shipping"),
    # --- product ---
    "product.choose": ("选择规格", "Choose an option"),
    "product.add_to_cart": ("加入购物车", "Add to cart"),
    "product.buy_now": ("立即购买", "Buy now"),
    "product.added": ("已加入购物车", "Added to your cart"),
    "product.reviews": ("商品评价", "Reviews"),
    "product.reviews_count": ("{n} 条评价", "{n} reviews"),
    "product.no_reviews": ("还没有评价。", "No reviews yet."),
    "product.rating": ("{stars} 星", "{stars} stars"),
    "product.average": ("平均 {avg} 分", "Average {avg}"),
    "product.description": ("商品详情", "Details"),
    "product.stock_left": ("库存 {n}", "{n} left"),
    "product.visit_shop": ("进店逛逛", "Visit the shop"),
    "product.sku_unavailable": ("该规格暂不可售", "This option is not available"),
    # --- cart ---
    "cart.title": ("购物车", "Cart"),
    "cart.empty": ("购物车是空的，去逛逛吧。", "Your cart is empty. Go find something you like."),
    "cart.go_shopping": ("去逛逛", "Start shopping"),
    "cart.unavailable": ("该商品已下架或库存不足", "No longer available in this quantity"),
    "cart.checkout": ("去结算", "Check out"),
    "cart.item_total": ("商品合计", "Items"),
    "cart.removed": ("已从购物车移除", "Removed from your cart"),
    "cart.updated": ("购物车已更新", "Cart updated"),
    # --- checkout ---
    "checkout.title": ("确认订单", "Check out"),
    "checkout.address": ("收货地址", "Shipping address"),
    "checkout.name": ("收货人", "Recipient"),
    "checkout.phone": ("手机号", "Phone"),
    "checkout.province": ("省份", "Province"),
    "checkout.city": ("城市", "City"),
    "checkout.district": ("区县", "District"),
    "checkout.line": ("详细地址", "Street address"),
    "checkout.items": ("商品清单", "Items"),
    "checkout.place": ("提交订单", "Place order"),
    "checkout.nothing": ("没有要结算的商品。", "There is nothing to check out."),
    "checkout.pay_title": ("支付订单", "Pay"),
    "checkout.pay_amount": ("应付金额", "Amount due"),
    "checkout.pay_method": ("支付方式", "Payment method"),
    "checkout.pay_card": ("模拟银行卡（演示，成功）", "Simulated card (demo, approved)"),
    "checkout.pay_declined": ("模拟银行卡（演示，被拒）", "Simulated card (demo, declined)"),
    "checkout.pay_submit": ("确认支付 {amount}", "Pay {amount}"),
    "checkout.pay_expires": ("请在 {time} 前完成支付", "Pay before {time}"),
    "checkout.paid": ("支付成功！", "Payment successful!"),
    "checkout.declined": (
        "支付被拒绝（{code}），请换一种方式。",
        "The payment was declined ({code}). Try another method.",
    ),
    "checkout.not_payable": ("这笔订单不能再支付了。", "This checkout can no longer be paid."),
    "checkout.orders_split": ("将按店铺拆分为 {n} 个订单", "Split into {n} orders, one per shop"),
    "checkout.shipping": ("运费", "Shipping"),
    "checkout.discount": ("优惠", "Discount"),
    # --- orders ---
    "orders.title": ("我的订单", "My orders"),
    "orders.empty": ("还没有订单。", "No orders yet."),
    "orders.order_no": ("订单号 {id}", "Order {id}"),
    "orders.detail": ("订单详情", "Order details"),
    "orders.timeline": ("物流进度", "Delivery progress"),
    "orders.shipment": ("{carrier} 运单号 {number}", "{carrier} tracking {number}"),
    "orders.address": ("收货信息", "Delivery to"),
    "orders.paid_total": ("实付", "Paid"),
    "orders.refunded": ("已退款 {amount}", "{amount} refunded"),
    "orders.confirm_receipt": ("确认收货", "Confirm receipt"),
    "orders.received": ("已确认收货", "Receipt confirmed"),
    "orders.after_sale": ("申请售后", "Return / refund"),
    "orders.review": ("评价", "Write a review"),
    "orders.reviewed": ("已评价", "Reviewed"),
    "orders.rate_order": ("为这次购物打分", "Rate this purchase"),
    "orders.pay_now": ("去支付", "Pay now"),
    "orders.cancel": ("取消订单", "Cancel order"),
    "orders.cancelled_msg": ("订单已取消", "The order was cancelled"),
    "orders.cases": ("售后记录", "Returns and refunds"),
    "orders.filter": ("按状态筛选", "Filter by status"),
    "orders.all": ("全部", "All"),
    "status.created": ("待支付", "Awaiting payment"),
    "status.paid": ("待发货", "Paid, to be shipped"),
    "status.shipped": ("已发货", "Shipped"),
    "status.delivered": ("已送达", "Delivered"),
    "status.completed": ("已完成", "Completed"),
    "status.cancelled": ("已取消", "Cancelled"),
    "timeline.created": ("下单", "Order placed"),
    "timeline.paid": ("付款成功", "Paid"),
    "timeline.shipped": ("商家已发货", "Shipped by the shop"),
    "timeline.picked_up": ("快递已揽收", "Picked up by the carrier"),
    "timeline.delivered": ("已签收", "Delivered"),
    "timeline.completed": ("交易完成", "Completed"),
    "timeline.cancelled": ("订单取消", "Cancelled"),
    # --- after-sales ---
    "aftersale.title": ("申请售后", "Request a return or refund"),
    "aftersale.item": ("售后商品", "Item"),
    "aftersale.kind": ("售后类型", "Type"),
    "aftersale.kind.refund_only": ("仅退款", "Refund only"),
    "aftersale.kind.return_and_refund": ("退货退款", "Return and refund"),
    "aftersale.reason": ("原因", "Reason"),
    "aftersale.reason.quality": ("质量问题", "Quality problem"),
    "aftersale.reason.logistics": ("物流问题", "Delivery problem"),
    "aftersale.reason.changed_mind": ("不想要了（7 天无理由）", "Changed my mind (within 7 days)"),
    "aftersale.description": ("问题描述", "Describe the problem"),
    "aftersale.quantity": ("件数", "Units"),
    "aftersale.submit": ("提交申请", "Send request"),
    "aftersale.sent": ("售后申请已提交，商家会尽快处理。", "Request sent; the shop will answer soon."),
    "aftersale.status.requested": ("等待商家处理", "Waiting for the shop"),
    "aftersale.status.awaiting_return": ("请寄回商品", "Please send the item back"),
    "aftersale.status.return_shipped": ("退货已寄出", "Return on its way"),
    "aftersale.status.refunded": ("已退款", "Refunded"),
    "aftersale.status.rejected": ("商家已拒绝", "Rejected by the shop"),
    "aftersale.status.arbitrating": ("平台处理中", "Being reviewed by the platform"),
    "aftersale.status.closed": ("已关闭", "Closed"),
    "aftersale.status.cancelled": ("已撤销", "Withdrawn"),
    "aftersale.amount": ("退款金额 {amount}", "Refund {amount}"),
    # --- reviews ---
    "review.title": ("评价商品", "Review your purchase"),
    "review.rating": ("评分", "Rating"),
    "review.stars": ("{n} 星", "{n} stars"),
    "review.text": ("评价内容", "Your review"),
    "review.tags": ("标签（用逗号分隔）", "Tags (comma separated)"),
    "review.submit": ("发布评价", "Post review"),
    "review.thanks": ("感谢你的评价！", "Thank you for your review!"),
    "review.followup": (
        "你已评价过该商品，这条将作为追评。",
        "You reviewed this item before; this will be a follow-up.",
    ),
    "review.choose_rating": ("请选择评分", "Choose a rating"),
    # --- NPS ---
    "nps.title": ("满意度调查", "Quick survey"),
    "nps.question": (
        "你有多大可能把种草推荐给朋友？",
        "How likely are you to recommend zhongcao to a friend?",
    ),
    "nps.scale_low": ("0 = 完全不可能", "0 = not at all likely"),
    "nps.scale_high": ("10 = 非常可能", "10 = extremely likely"),
    "nps.reasons": ("主要原因（可多选）", "What mattered most (choose any)"),
    "nps.reason.product": ("商品", "Products"),
    "nps.reason.logistics": ("物流", "Delivery"),
    "nps.reason.service": ("服务", "Service"),
    "nps.reason.price": ("价格", "Price"),
    "nps.reason.content": ("内容", "Content"),
    "nps.text": ("还有什么想说的？", "Anything else?"),
    "nps.submit": ("提交", "Send"),
    "nps.thanks": ("感谢你的反馈！", "Thank you for your feedback!"),
    "nps.choose_score": ("请选择 0 到 10 的分数", "Choose a score from 0 to 10"),
    "nps.already": ("你已经回答过这份问卷了。", "You have already answered this survey."),
    "nps.for_order": ("关于订单 {id}", "About order {id}"),
    # --- refusals from the services, by error code (others show the service's message) ---
    "err.insufficient_stock": ("库存不足，请减少数量", "Not enough stock for this quantity"),
    "err.not_for_sale": ("该商品暂不可售", "This item is not on sale"),
    "err.sku_not_found": ("该规格不存在", "This option does not exist"),
    "err.quantity_limit": ("单件商品最多购买 999 件", "At most 999 units of one item"),
    "err.cart_full": ("购物车已满（最多 100 种商品）", "Your cart is full (100 items at most)"),
    "err.cart_empty": ("购物车是空的", "Your cart is empty"),
    "err.cart_item_not_found": ("该商品已不在购物车中", "This item is no longer in your cart"),
    "err.checkout_expired": ("支付超时，订单已取消", "The time to pay ran out; the order was cancelled"),
    "err.checkout_not_payable": ("这笔订单不能再支付了", "This checkout can no longer be paid"),
    "err.payment_provider_unavailable": (
        "支付服务暂不可用，未扣款，请重试",
        "The payment service is unavailable; nothing was charged. Try again",
    ),
    "err.idempotency_in_progress": ("正在处理，请稍候", "Still being processed, please wait"),
    "err.window_closed": (
        "已超过 7 天无理由退货期限",
        "Returns for a change of mind close 7 days after delivery",
    ),
    "err.case_already_open": ("该商品已有进行中的售后", "This item already has an open request"),
    "err.quantity_exceeds_refundable": ("件数超过可退数量", "More units than can still be refunded"),
    "err.nothing_to_refund": ("该商品已无可退金额", "Nothing is left to refund on this item"),
    "err.illegal_transition": ("当前订单状态不允许此操作", "The order's current state does not allow this"),
    "err.order_not_reviewable": ("订单送达后才能评价", "You can review once the order is delivered"),
    "err.order_not_delivered": ("订单还未送达", "The order has not been delivered yet"),
    "err.after_sale_not_finished": (
        "售后处理完成后才能评价",
        "You can rate this once the request is finished",
    ),
    "err.text_too_long": ("内容太长了", "The text is too long"),
    "err.invalid_tag": ("每个标签 1 到 20 个字", "Each tag must be 1 to 20 characters"),
    "err.too_many_tags": ("最多 10 个标签", "At most 10 tags"),
}
_PAIRS.update(CONSOLE_PAIRS)  # the consoles' messages (web/i18n_console.py): new keys only

MESSAGES: dict[str, dict[str, str]] = {
    locale: {key: pair[i] for key, pair in _PAIRS.items()} for i, locale in enumerate(LOCALES)
}


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """The page language: a valid cookie wins, then the best zh/en in Accept-Language, then zh."""
    if cookie in LOCALES:
        return cookie  # type: ignore[return-value]
    best, best_q = None, 0.0
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        primary = tag.split("-")[0]
        if primary in LOCALES and q > best_q:
            best, best_q = primary, q - position * 1e-6  # earlier wins a tie
    return best or DEFAULT_LOCALE


def translate(locale: str, key: str, **params: object) -> str:
    """The message ``key`` in ``locale``; an unknown key is logged and shown as itself."""
    message = MESSAGES.get(locale, MESSAGES[DEFAULT_LOCALE]).get(key)
    if message is None:
        log.warning("missing web message %r", key)
        return key
    return message.format(**params) if params else message


def translator(locale: str) -> Callable[..., str]:
    def t(key: str, **params: object) -> str:
        return translate(locale, key, **params)

    return t


def has_message(key: str) -> bool:
    return key in _PAIRS
