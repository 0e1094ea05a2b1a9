"""Strings of the demo logins on the login page and the "live now" strip (issue #17 item 4)."""

PAIRS = {
    "auth.demo.title": ("演示账号", "Demo logins"),
    "auth.demo.intro": (
        "这是演示环境：点一个身份直接登录，或用下面的邮箱和密码 {password} 登录。",
        "This is the demo world: pick who to be and sign in at once, or use an email below with the password {password}.",
    ),
    "auth.demo.shopper": ("以买家身份登录", "Sign in as the shopper"),
    "auth.demo.good_shop": ("以优质店铺店主登录", "Sign in as the good shop's owner"),
    "auth.demo.poor_shop": ("以问题店铺店主登录", "Sign in as the poor shop's owner"),
    "auth.demo.creator": ("以达人身份登录", "Sign in as the creator"),
    "auth.demo.operator": ("以平台运营登录", "Sign in as the platform operator"),
    # shopper: the "live now" strip on the mall, search and a shop's page
    "live_now.title": ("正在直播", "Live now"),
    "live_now.watch": ("进入直播间", "Watch"),
}
