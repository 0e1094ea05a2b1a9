"""After-sales on both sides (issue #17, item 2): the shopper's case page (evidence photos, the
return's carrier and tracking number, withdraw, escalate) and the merchant's case page (timeline,
both sides' evidence, the shop's own photos)."""

PAIRS = {
    "aftersale.case_no": ("售后单 {id}", "After-sales case {id}"),
    "aftersale.your_request": ("你的申请", "Your request"),
    "aftersale.refund_amount": ("退款金额", "Refund"),
    "aftersale.refunded_on": ("{at} 已退款", "Refunded {at}"),
    "aftersale.timeline": ("售后进度", "Progress"),
    "aftersale.merchant_said": ("商家说明", "The shop's reply"),
    "aftersale.platform_ruled": ("平台处理结果", "The platform's ruling"),
    "aftersale.not_now": (
        "售后单当前状态不支持这个操作，页面已刷新为最新状态。",
        "The case's state doesn't allow that now; the page shows where it stands.",
    ),
    "aftersale.next.requested": (
        "等待商家处理。商家 48 小时内未处理将自动同意。你可以补充凭证图片，也可以撤销申请。",
        "Waiting for the shop. If it doesn't answer within 48 hours, your request is approved automatically. You can add photos or withdraw the request.",
    ),
    "aftersale.next.awaiting_return": (
        "商家已同意退货。请把商品寄回，并在下方填写快递公司和运单号。",
        "The shop approved the return. Send the item back and enter the carrier and tracking number below.",
    ),
    "aftersale.next.return_shipped": (
        "退货已寄出，商家确认收货后立即退款。",
        "Your return is on its way; you're refunded as soon as the shop confirms it arrived.",
    ),
    "aftersale.next.refunded": ("退款已原路退回。", "The refund went back to how you paid."),
    "aftersale.next.rejected": (
        "商家拒绝了申请。如果不认可，可以申请平台介入。",
        "The shop rejected your request. If you disagree, ask the platform to step in.",
    ),
    "aftersale.next.arbitrating": (
        "平台客服正在处理，会参考双方的说明和凭证。",
        "The platform is reviewing the case, with both sides' statements and photos.",
    ),
    "aftersale.next.closed": ("售后已结束，未退款。", "The case ended without a refund."),
    "aftersale.next.cancelled": ("你已撤销这个售后申请。", "You withdrew this request."),
    "aftersale.return.title": ("填写退货物流", "Return shipping"),
    "aftersale.return.hint": (
        "寄出后填写快递公司和运单号，商家收到后给你退款。",
        "Once the parcel is sent, enter its carrier and tracking number; the shop refunds you when it arrives.",
    ),
    "aftersale.return.by": ("请在 {at} 前寄出，逾期售后将关闭。", "Send it by {at}, or the case closes."),
    "aftersale.return.carrier": ("快递公司", "Carrier"),
    "aftersale.return.pick_carrier": ("请选择快递公司", "Choose the carrier"),
    "aftersale.return.number": ("运单号", "Tracking number"),
    "aftersale.return.bad_tracking": (
        "运单号为 4–64 位字母、数字或短横线",
        "A tracking number is 4–64 letters, digits or dashes",
    ),
    "aftersale.return.submit": ("提交退货物流", "Submit tracking"),
    "aftersale.return.sent": ("退货物流已提交，等待商家收货", "Tracking sent; waiting for the shop to receive it"),
    "aftersale.return.parcel": ("退货物流", "Return parcel"),
    "aftersale.escalate.title": ("申请平台介入", "Ask the platform to step in"),
    "aftersale.escalate.hint": (
        "平台客服会查看双方的说明和凭证后作出处理。",
        "A platform agent looks at both sides' statements and photos and decides.",
    ),
    "aftersale.escalate.by": ("请在 {at} 前申请，逾期售后将关闭。", "Ask by {at}, or the case closes."),
    "aftersale.escalate.submit": ("申请平台介入", "Ask the platform"),
    "aftersale.escalated": ("已申请平台介入", "The platform will review your case"),
    "aftersale.withdraw": ("撤销申请", "Withdraw the request"),
    "aftersale.withdrawn": ("售后申请已撤销", "Request withdrawn"),
    "aftersale.evidence.title": ("凭证图片", "Photos"),
    "aftersale.evidence.side.buyer": ("我的凭证", "Yours"),
    "aftersale.evidence.side.merchant": ("商家凭证", "The shop's"),
    "aftersale.evidence.side_merchant_view.buyer": ("买家凭证", "The buyer's"),
    "aftersale.evidence.side_merchant_view.merchant": ("店铺凭证", "The shop's"),
    "aftersale.evidence.add": ("上传凭证图片", "Add a photo"),
    "aftersale.evidence.add_shop": ("上传店铺凭证", "Add the shop's photo"),
    "aftersale.evidence.hint": (
        "拍下商品问题、包装或快递面单，最多 9 张，支持 JPG、PNG、WebP、GIF。",
        "A photo of the problem, the packaging or the label; up to 9, JPG, PNG, WebP or GIF.",
    ),
    "aftersale.evidence.hint_shop": (
        "如发货前的质检照片、签收记录，最多 9 张，平台介入时会参考。",
        "Such as a pre-shipment check or the signed delivery; up to 9, weighed if the platform steps in.",
    ),
    "aftersale.evidence.upload": ("上传", "Upload"),
    "aftersale.evidence.added": ("凭证图片已上传", "Photo added"),
    "aftersale.evidence.pick": ("请选择一张图片", "Choose a picture"),
    "aftersale.evidence.closed": (
        "售后已结束，不能再补充凭证。",
        "The case has ended; photos can no longer be added.",
    ),
    "timeline.case_withdrawn": ("买家撤销申请", "Withdrawn by the buyer"),
}
