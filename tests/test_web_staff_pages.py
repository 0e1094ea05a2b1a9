"""Staff and invitation pages, server side: the owner invites from /merchant/staff and copies the link,
the invitee registers through the link and accepts, the owner changes roles and removes members (never
the last owner), revokes and renews invitations; nothing shows a raw error code."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.factories import PASSWORD, add_staff, make_shop, make_user
from tests.web_helpers import form_token, web_login
from zhongcao import clock
from zhongcao.shops import invitations
from zhongcao.shops.models import ShopStaff, StaffInvitation, StaffRole
from zhongcao.users.models import Role, User

LINK = re.compile(r'id="invite-url"[^>]*value="http://testserver(/invitations/[A-Za-z0-9_-]+)"')


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _no_raw_codes(html: str) -> None:
    for code in ("wrong_shop_role", "last_owner", "invitation_", "already_staff", "invalid_email"):
        assert code not in html.replace('"/invitations/', "").replace("invitation-", ""), code


def test_owner_invites_and_the_invitee_registers_and_accepts(client, db):
    shop = make_shop(db, "花间小铺")
    web_login(client, shop.owner.email)
    page = client.get("/merchant/staff")
    assert page.status_code == 200 and "没有待接受的邀请" in page.text and shop.owner.email in page.text
    token = _csrf(page.text)

    # A typo keeps what was typed and says what is wrong.
    bad = client.post(
        "/merchant/staff/invite", data={"email": "xiaomei", "role": "operator", "csrf_token": token}
    )
    assert bad.status_code == 422 and 'value="xiaomei"' in bad.text and "请输入有效的邮箱地址" in bad.text
    assert re.search(r'value="operator" checked', bad.text)
    _no_raw_codes(bad.text)

    made = client.post(
        "/merchant/staff/invite",
        data={"email": "XiaoMei@Example.com", "role": "service_agent", "csrf_token": token},
    )
    assert made.status_code == 200 and "不会发送邮件" in made.text
    link = LINK.search(made.text).group(1)
    assert "xiaomei@example.com" in made.text and "待接受" in made.text

    # The invitee, signed out, opens the link: sign in or register, and come back.
    client.cookies.clear()
    landing = client.get(link)
    assert landing.status_code == 200 and "花间小铺" in landing.text and "客服" in landing.text
    assert f"/register?next={link.replace('/', '%2F')}" in landing.text
    register = client.get(f"/register?next={link}")
    joined = client.post(
        "/register",
        data={
            "email": "xiaomei@example.com",
            "display_name": "小美",
            "password": PASSWORD,
            "role": "shopper",
            "next": link,
            "csrf_token": _csrf(register.text),
        },
        follow_redirects=False,
    )
    assert joined.status_code == 303 and joined.headers["location"] == link
    ready = client.get(link)
    assert "接受邀请" in ready.text
    accepted = client.post(link, data={"csrf_token": _csrf(ready.text)}, follow_redirects=False)
    assert accepted.status_code == 303 and accepted.headers["location"] == "/merchant"
    console = client.get("/merchant")
    assert console.status_code == 200 and "花间小铺" in console.text
    assert 'href="/merchant/finance"' not in console.text and 'href="/merchant/staff"' not in console.text
    user = db.query(User).filter_by(email="xiaomei@example.com").one()
    assert user.role is Role.merchant
    assert db.query(ShopStaff).filter_by(user_id=user.id).one().role is StaffRole.service_agent

    # The link is single-use.
    used = client.get(link)
    assert "这个邀请链接已经用过了" in used.text and "接受邀请</button>" not in used.text
    _no_raw_codes(used.text)


def test_the_link_refuses_another_account_and_lists_show_waiting_invitations(client, db):
    shop = make_shop(db, "山野户外")
    invitee = make_user(db, Role.shopper)
    _, secret = invitations.invite(
        db, shop.shop.id, email=invitee.email, role=StaffRole.operator, invited_by=shop.owner.id
    )
    other = make_user(db, Role.shopper)
    web_login(client, other.email)
    page = client.get(f"/invitations/{secret}")
    assert "这个邀请是发给另一个邮箱的" in page.text and "退出并换个账号" in page.text
    refused = client.post(f"/invitations/{secret}", data={"csrf_token": _csrf(page.text)})
    assert refused.status_code == 403 and "另一个邮箱" in refused.text
    _no_raw_codes(refused.text)
    assert "目前没有发给你的店铺邀请" in client.get("/invitations").text

    client.cookies.clear()
    web_login(client, invitee.email)
    account = client.get("/account/security")
    assert 'href="/invitations"' in account.text and "<section" not in account.text.split("</title>")[0]
    mine = client.get("/invitations")
    assert "山野户外" in mine.text and "运营" in mine.text and secret not in mine.text
    assert client.get("/invitations/not-a-real-token").status_code == 404


def test_owner_changes_roles_removes_members_and_keeps_an_owner(client, db):
    shop = make_shop(db)
    agent = add_staff(db, shop.shop, StaffRole.service_agent)
    web_login(client, shop.owner.email)
    page = client.get("/merchant/staff")
    token = _csrf(page.text)
    own = db.query(ShopStaff).filter_by(user_id=shop.owner.id).one()
    member = db.query(ShopStaff).filter_by(user_id=agent.id).one()

    last = client.post(f"/merchant/staff/{own.id}/role", data={"role": "operator", "csrf_token": token})
    assert last.status_code == 409 and "至少要保留一位店主" in last.text
    _no_raw_codes(last.text)
    gone = client.post(f"/merchant/staff/{own.id}/remove", data={"csrf_token": token})
    assert gone.status_code == 409 and "至少要保留一位店主" in gone.text

    promoted = client.post(
        f"/merchant/staff/{member.id}/role",
        data={"role": "operator", "csrf_token": token},
        follow_redirects=False,
    )
    assert promoted.status_code == 303
    db.expire_all()
    assert db.get(ShopStaff, member.id).role is StaffRole.operator
    filtered = client.get("/merchant/staff?role=operator")
    assert agent.email in filtered.text and shop.owner.email not in filtered.text.split('id="members"')[1]
    assert "没有这个角色的成员" in client.get("/merchant/staff?role=service_agent").text

    removed = client.post(
        f"/merchant/staff/{member.id}/remove", data={"csrf_token": token}, follow_redirects=False
    )
    assert removed.status_code == 303
    assert db.query(ShopStaff).filter_by(user_id=agent.id).count() == 0
    assert db.get(User, agent.id) is not None


def test_owner_revokes_and_renews_invitations(client, db):
    shop = make_shop(db)
    row, secret = invitations.invite(
        db, shop.shop.id, email="late@example.com", role=StaffRole.operator, invited_by=shop.owner.id
    )
    row.expires_at = clock.now() - timedelta(hours=1)
    db.commit()
    web_login(client, shop.owner.email)
    page = client.get("/merchant/staff")
    assert "已过期" in page.text
    token = _csrf(page.text)
    renewed = client.post(f"/merchant/staff/invitations/{row.id}/renew", data={"csrf_token": token})
    new_link = LINK.search(renewed.text).group(1)
    assert secret not in new_link
    assert client.get(f"/invitations/{secret}").status_code == 404
    revoked = client.post(
        f"/merchant/staff/invitations/{row.id}/revoke", data={"csrf_token": token}, follow_redirects=False
    )
    assert revoked.status_code == 303
    assert "没有待接受的邀请" in client.get("/merchant/staff").text
    db.expire_all()
    assert db.get(StaffInvitation, row.id).status.value == "revoked"
    client.cookies.clear()
    assert "店主已撤回这个邀请" in client.get(new_link).text


def test_operators_and_agents_get_the_403_page(client, db):
    shop = make_shop(db)
    for role in (StaffRole.operator, StaffRole.service_agent):
        client.cookies.clear()
        web_login(client, add_staff(db, shop.shop, role).email)
        page = client.get("/merchant/staff")
        assert page.status_code == 403 and "无权访问" in page.text
        token = form_token(client, "/merchant/inbox")
        invite = client.post(
            "/merchant/staff/invite", data={"email": "a@example.com", "role": "owner", "csrf_token": token}
        )
        assert invite.status_code == 403
    assert db.query(StaffInvitation).count() == 0


def test_the_pages_read_in_english(client, db):
    shop = make_shop(db)
    web_login(client, shop.owner.email)
    english = client.get("/locale?to=en&next=/merchant/staff")
    assert "Staff and invitations" in english.text and "No email is sent" in english.text


def test_another_shops_staff_and_invitations_are_not_found(client, db):
    victim, attacker = make_shop(db, "受害店"), make_shop(db, "攻击店")
    member = add_staff(db, victim.shop, StaffRole.operator)
    row, _ = invitations.invite(
        db,
        victim.shop.id,
        email="victim-new@example.com",
        role=StaffRole.operator,
        invited_by=victim.owner.id,
    )
    staff_id = db.query(ShopStaff).filter_by(user_id=member.id).one().id
    web_login(client, attacker.owner.email)
    page = client.get("/merchant/staff")
    assert member.email not in page.text and "victim-new@example.com" not in page.text
    token = _csrf(page.text)
    for url, data in (
        (f"/merchant/staff/{staff_id}/role", {"role": "service_agent"}),
        (f"/merchant/staff/{staff_id}/remove", {}),
        (f"/merchant/staff/invitations/{row.id}/renew", {}),
        (f"/merchant/staff/invitations/{row.id}/revoke", {}),
    ):
        response = client.post(url, data={**data, "csrf_token": token})
        assert response.status_code == 404, url
    db.expire_all()
    assert db.get(ShopStaff, staff_id).role is StaffRole.operator
    assert db.get(StaffInvitation, row.id).status.value == "pending"
