"""Strings of the integrity platform (issue #19, part B): sanctions' notifications, the operator's
integrity desk, the merchant's and creator's integrity pages."""

PAIRS = {
    # notifications
    "notify.kind.integrity_sanction": (
        "%(shop)s 因购买互动或刷单受到处理：%(level)s（案件 #%(case)s）。原因：%(reason)s。可查看并申诉一次。",
        "%(shop)s: %(level)s for bought engagement or brushed orders (case #%(case)s). Why: %(reason)s. See it and appeal once.",
    ),
    "notify.kind.integrity_appeal_decided": (
        "%(shop)s 的申诉结果：%(outcome)s。%(reason)s",
        "%(shop)s, your appeal: %(outcome)s. %(reason)s",
    ),
    "notify.kind_name.integrity_sanction": ("诚信处理", "Integrity sanction"),
    "notify.kind_name.integrity_appeal_decided": ("诚信申诉结果", "Integrity appeal decided"),
    "integrity.level.warning": ("警告", "a warning"),
    "integrity.level.eligibility": ("暂停活动报名/选品广场资格", "loss of campaign / product plaza eligibility"),
    "integrity.level.suspension": ("暂停经营", "suspension"),
    "integrity.appeal.granted": ("申诉成功，处理已撤销", "granted: the sanction is lifted"),
    "integrity.appeal.upheld": ("申诉未通过，维持处理", "refused: the sanction stays"),
}
