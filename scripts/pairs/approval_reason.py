"""Strings of the operator's shop-application decision: approving and rejecting both say why (issue #16)."""

PAIRS = {
    "onboarding.ops.decision_reason": ("审核意见", "Reviewer's note"),
    "onboarding.ops.decision_reason_hint": (
        "通过或驳回都要写明理由：通过写核验了什么，驳回写哪里不符合；申请人会看到，审计日志会保存。",
        "Approving or rejecting, say why: what you checked, or what does not meet the rules. "
        "The applicant reads it and the audit log keeps it.",
    ),
    "open_shop.approved_note": ("审核意见：%(reason)s", "Reviewer's note: %(reason)s"),
}
