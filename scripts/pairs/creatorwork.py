"""Strings of the creator's studio (publish a video, schedule and host a live session), the creator's
data and the commission statement (issue #16, items 1b and 5)."""

PAIRS = {
    "console.nav.creator_data": ("带货数据", "My data"),
    "console.nav.statement": ("佣金账单", "Statement"),
    # the studio
    "creator.studio.publish_sub": (
        "上传 MP4 或 WebM 视频，挂上你可以推广的商品；买家通过你的视频下单，佣金记在你的账上。",
        "Upload an MP4 or WebM video and anchor products you may promote; orders placed through "
        "your video earn you the commission.",
    ),
    "creator.studio.schedule_sub": (
        "选好开播时间和直播商品；开播后可以在直播控制台讲解、置顶商品。",
        "Choose when you go live and the products for the session; on air, pin products from the "
        "host dashboard.",
    ),
    "creator.studio.anchor_products": ("挂车商品", "Anchored products"),
    "creator.studio.products_hint": (
        "从你的商品橱窗中选择要挂车的商品，最多 50 件",
        "Choose the products to anchor from your showcase, up to 50",
    ),
    "creator.studio.no_products": (
        "你的橱窗里还没有可以带货的商品：先去选品广场把商品加入橱窗。",
        "Your showcase has no products you can promote yet: add some from the selection plaza first.",
    ),
    # data
    "creator.data.title": ("带货数据", "My data"),
    "creator.data.sub": (
        "每条内容、每件商品带来的订单、成交额和佣金",
        "Orders, GMV and commission that each content item and each product brought",
    ),
    "creator.data.to_statement": ("查看佣金账单", "See the statement"),
    "creator.data.by_content": ("按内容", "By content"),
    "creator.data.by_product": ("按商品", "By product"),
    "creator.data.no_content": (
        "这段时间你的内容还没有曝光或成交。发布视频或开播后，数据会显示在这里。",
        "Your content had no views or sales in this period. Publish a video or go live and its "
        "numbers appear here.",
    ),
    "creator.data.no_products": (
        "这段时间还没有通过你成交的商品。",
        "No product sold through you in this period yet.",
    ),
    "creator.data.note": (
        "数据来自数据罗盘的快照，每几分钟更新一次；佣金为下单时的预估，确认收货后计入佣金账单。",
        "From Compass's snapshot, refreshed every few minutes; commission is the estimate at purchase "
        "and enters the statement when the order completes.",
    ),
    # the statement
    "creator.statement.title": ("佣金账单", "Commission statement"),
    "creator.statement.sub": (
        "每一笔佣金及其状态：订单结算前为待结算，随订单结算后为已结算，完成后退款则被冲回。",
        "Every commission entry and its state: pending until the order is settled, settled with the "
        "order's settlement, reversed when a refund follows completion.",
    ),
    "creator.statement.csv": ("导出 CSV", "Download CSV"),
    "creator.statement.bad_day": (
        "请输入有效日期，例如 2026-01-31",
        "Enter a valid date, e.g. 2026-01-31",
    ),
    "creator.statement.bad_period": (
        "账单期间无效：开始日期不能晚于结束日期，且最长一年",
        "The period is not valid: it starts before it ends and covers at most a year",
    ),
    "creator.statement.pending_hint": ("订单尚未结算", "The orders are not settled yet"),
    "creator.statement.settled_hint": ("已随订单结算", "Settled with the orders"),
    "creator.statement.reversed_hint": ("确认收货后退款冲回", "Refunds after completion"),
    "creator.statement.net": ("本期合计", "Net for the period"),
    "creator.statement.filter": ("按状态筛选", "Filter by state"),
    "creator.statement.empty": (
        "这段时间没有佣金记录。买家通过你的视频或直播下单并确认收货后，佣金会记在这里。",
        "No commission in this period. When a shopper buys through your video or live session and "
        "the order completes, the commission shows here.",
    ),
    "creator.statement.empty_filtered": (
        "这段时间没有这个状态的佣金。",
        "No commission in this state in this period.",
    ),
    "creator.statement.col.order": ("订单", "Order"),
    "creator.statement.col.state": ("状态", "State"),
    "creator.statement.more_in_csv": (
        "只显示最近的 200 笔；其余 {count} 笔请导出 CSV 查看。",
        "Showing the latest 200; download the CSV for the other {count}.",
    ),
    "creator.entry_state.pending": ("待结算", "Pending"),
    "creator.entry_state.settled": ("已结算", "Settled"),
    "creator.entry_state.reversed": ("已冲回", "Reversed"),
    # refusals in the page's language (services speak English)
    "err.product_not_promotable": (
        "你还不能推广这件商品：它没有对你开放的带货计划。",
        "You may not promote this product: no plan open to you covers it.",
    ),
    "err.invalid_period": ("开始日期不能晚于结束日期。", "The period starts after it ends."),
    "err.period_too_long": ("账单期间最长一年。", "A statement covers at most a year."),
}
