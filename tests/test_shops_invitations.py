"""Staff invitations through the JSON API: an owner invites by email with a role, the invitee accepts
with the single-use link while signed in with that email, and becomes staff; revoking, expiry,
renewing and the owner-only rule."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import add_staff, auth, make_shop, make_user
from zhongcao import clock
from zhongcao.shops import invitations
from zhongcao.shops.models import ShopStaff, StaffRole
from zhongcao.users.models import Role, User

URL = "/api/merchant/staff/invitations"


def _secret(accept_url: str) -> str:
    assert invitations.ACCEPT_PATH in accept_url
    return accept_url.rsplit("/", 1)[1]


def test_invite_accept_and_become_staff(client, db):
    shop = make_shop(db)
    owner = auth(db, shop.owner)
    invitee = make_user(db, Role.shopper)

    issued = client.post(URL, json={"email": invitee.email.upper(), "role": "service_agent"}, headers=owner)
    assert issued.status_code == 201, issued.text
    body = issued.json()
    assert body["email"] == invitee.email and body["state"] == "pending" and body["role"] == "service_agent"
    secret = _secret(body["accept_url"])

    # The invitee sees it waiting (without the link) and accepts with the link.
    headers = auth(db, invitee)
    mine = client.get("/api/invitations", headers=headers).json()
    assert [row["shop_id"] for row in mine] == [shop.shop.id] and "accept_url" not in mine[0]
    accepted = client.post("/api/invitations/accept", json={"token": secret}, headers=headers)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["role"] == "service_agent" and accepted.json()["shop_id"] == shop.shop.id
    db.expire_all()
    assert db.get(User, invitee.id).role is Role.merchant
    assert client.get("/api/invitations", headers=headers).json() == []

    # Single use: the same link again is refused, and the owner's list no longer shows it as waiting.
    again = client.post("/api/invitations/accept", json={"token": secret}, headers=headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "invitation_used"
    assert client.get(URL, headers=owner).json()["items"] == []
    closed = client.get(URL, params={"include_closed": "true"}, headers=owner).json()["items"]
    assert [row["state"] for row in closed] == ["accepted"]
    staff = client.get("/api/merchant/staff", headers=owner).json()["items"]
    assert {row["email"] for row in staff} == {shop.owner.email, invitee.email}


def test_the_link_is_useless_to_another_account(client, db):
    shop = make_shop(db)
    invitee = make_user(db, Role.shopper)
    _, secret = invitations.invite(
        db, shop.shop.id, email=invitee.email, role=StaffRole.operator, invited_by=shop.owner.id
    )
    other = make_user(db, Role.shopper)
    response = client.post("/api/invitations/accept", json={"token": secret}, headers=auth(db, other))
    assert response.status_code == 403 and response.json()["error"]["code"] == "invitation_other_email"
    unknown = client.post("/api/invitations/accept", json={"token": "nope"}, headers=auth(db, invitee))
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "invitation_not_found"
    assert db.query(ShopStaff).filter_by(user_id=other.id).count() == 0


@pytest.mark.parametrize("role", [Role.creator, Role.operator])
def test_creators_and_operators_cannot_join(client, db, role):
    shop = make_shop(db)
    person = make_user(db, role)
    _, secret = invitations.invite(
        db, shop.shop.id, email=person.email, role=StaffRole.operator, invited_by=shop.owner.id
    )
    response = client.post("/api/invitations/accept", json={"token": secret}, headers=auth(db, person))
    assert response.status_code == 409 and response.json()["error"]["code"] == "cannot_join_shop"


def test_staff_of_another_shop_cannot_accept(client, db):
    shop, other = make_shop(db), make_shop(db)
    member = add_staff(db, other.shop, StaffRole.operator)
    _, secret = invitations.invite(
        db, shop.shop.id, email=member.email, role=StaffRole.operator, invited_by=shop.owner.id
    )
    response = client.post("/api/invitations/accept", json={"token": secret}, headers=auth(db, member))
    assert response.status_code == 409 and response.json()["error"]["code"] == "already_staff"


def test_revoked_and_expired_links_are_refused(client, db):
    shop = make_shop(db)
    owner = auth(db, shop.owner)
    first, second = make_user(db), make_user(db)
    row, revoked_secret = invitations.invite(
        db, shop.shop.id, email=first.email, role=StaffRole.operator, invited_by=shop.owner.id
    )
    assert client.delete(f"{URL}/{row.id}", headers=owner).status_code == 204
    response = client.post("/api/invitations/accept", json={"token": revoked_secret}, headers=auth(db, first))
    assert response.json()["error"]["code"] == "invitation_revoked"

    late, late_secret = invitations.invite(
        db, shop.shop.id, email=second.email, role=StaffRole.operator, invited_by=shop.owner.id
    )
    late.expires_at = clock.now() - timedelta(minutes=1)
    db.commit()
    assert client.get(URL, headers=owner).json()["items"][0]["state"] == "expired"
    response = client.post("/api/invitations/accept", json={"token": late_secret}, headers=auth(db, second))
    assert response.status_code == 409 and response.json()["error"]["code"] == "invitation_expired"

    # Renewing gives a fresh link that works; the old one stays dead.
    renewed = client.post(f"{URL}/{late.id}/renew", headers=owner)
    assert renewed.status_code == 200 and renewed.json()["state"] == "pending"
    headers = auth(db, second)
    stale = client.post("/api/invitations/accept", json={"token": late_secret}, headers=headers)
    assert stale.status_code == 404
    fresh = _secret(renewed.json()["accept_url"])
    assert client.post("/api/invitations/accept", json={"token": fresh}, headers=headers).status_code == 200


def test_inviting_again_replaces_the_link_and_role(client, db):
    shop = make_shop(db)
    owner = auth(db, shop.owner)
    email = "again@example.com"
    first = client.post(URL, json={"email": email, "role": "operator"}, headers=owner).json()
    second = client.post(URL, json={"email": email, "role": "service_agent"}, headers=owner).json()
    assert first["id"] == second["id"] and second["role"] == "service_agent"
    assert first["accept_url"] != second["accept_url"]
    assert len(client.get(URL, headers=owner).json()["items"]) == 1


def test_inviting_own_staff_and_bad_input(client, db):
    shop = make_shop(db)
    owner = auth(db, shop.owner)
    member = add_staff(db, shop.shop, StaffRole.operator)
    taken = client.post(URL, json={"email": member.email, "role": "owner"}, headers=owner)
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "already_staff"
    bad = client.post(URL, json={"email": "not an email", "role": "operator"}, headers=owner)
    assert bad.status_code == 422
    bad_role = client.post(URL, json={"email": "x@example.com", "role": "boss"}, headers=owner)
    assert bad_role.status_code == 422


@pytest.mark.parametrize("role", [StaffRole.operator, StaffRole.service_agent])
def test_only_owners_manage_invitations(client, db, role):
    shop = make_shop(db)
    row, _ = invitations.invite(
        db, shop.shop.id, email="someone@example.com", role=StaffRole.operator, invited_by=shop.owner.id
    )
    headers = auth(db, add_staff(db, shop.shop, role))
    assert client.get(URL, headers=headers).status_code == 403
    assert (
        client.post(URL, json={"email": "b@example.com", "role": "owner"}, headers=headers).status_code == 403
    )
    assert client.delete(f"{URL}/{row.id}", headers=headers).status_code == 403
    assert client.post(f"{URL}/{row.id}/renew", headers=headers).status_code == 403
