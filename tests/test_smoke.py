from zhongcao.users.models import Role


def test_health(client):
    assert client.get("/api/health/live").json() == {"status": "ok"}
    ready = client.get("/api/health/ready")
    assert ready.status_code == 200, ready.text


def test_register_login_me(client, db):
    r = client.post(
        "/api/auth/register", json={"email": "A@x.com", "password": "plum orchard 42", "display_name": "A"}
    )
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    me = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["email"] == "a@x.com" and me.json()["role"] == Role.shopper
    bad = client.post("/api/auth/login", json={"email": "a@x.com", "password": "nope"})
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "invalid_credentials"
    v = client.post("/api/auth/register", json={"email": "not-an-email", "password": "x"})
    assert v.status_code == 422 and v.json()["error"]["details"]["field"] in {
        "email",
        "password",
        "display_name",
    }
