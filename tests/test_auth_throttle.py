"""Login throttling (issue #14, item 1): per account and per client address, exponential backoff up to
a cap, checked before any password hash; 429 with Retry-After on the API and the login page.

The probe this answers: "40 wrong passwords in 7 s from one client, then the right one works".
"""

from __future__ import annotations

import time
import uuid

import pytest
from limits.storage import MemoryStorage

from tests.factories import PASSWORD, make_user
from tests.web_helpers import form_token
from zhongcao.config import Settings
from zhongcao.users import security
from zhongcao.users.throttle import LoginThrottle, account_key, address_key


def _login(client, email: str, password: str):  # type: ignore[no-untyped-def]
    return client.post("/api/auth/login", json={"email": email, "password": password})


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password verification the server makes (each is an argon2 hash)."""
    calls: list[str] = []
    real = security.verify_password

    def counting(password_hash: str, password: str) -> bool:
        calls.append(password)
        return real(password_hash, password)

    monkeypatch.setattr(security, "verify_password", counting)
    return calls


def test_probe_forty_wrong_passwords_then_the_right_one_is_refused(client, db, hashes) -> None:
    user = make_user(db)
    email = user.email
    started = time.monotonic()
    statuses = [_login(client, email, f"wrong guess {i}").status_code for i in range(40)]
    right = _login(client, email, PASSWORD)
    assert time.monotonic() - started < 7, "the probe must fit in its 7 seconds"
    assert statuses[:5] == [401] * 5  # the first few mistakes are free
    assert statuses.count(429) >= 30, statuses
    assert right.status_code == 429, right.text
    body = right.json()["error"]
    assert body["code"] == "too_many_login_attempts"
    assert "try again in" in body["message"]
    retry_after = int(right.headers["Retry-After"])
    assert 1 <= retry_after <= 900
    assert body["details"]["retry_after"] == retry_after
    # Refused attempts cost no hash: only the ones answered 401 were verified.
    assert len(hashes) == statuses.count(401)


def test_the_lock_ends_and_a_success_resets_the_account(client, db) -> None:
    email = make_user(db).email
    for i in range(5):
        assert _login(client, email, f"wrong {i}").status_code == 401
    assert _login(client, email, "wrong 5").status_code == 401  # the sixth locks for 1 s
    locked = _login(client, email, PASSWORD)
    assert locked.status_code == 429 and locked.headers["Retry-After"] == "1"
    time.sleep(1.05)
    assert _login(client, email, PASSWORD).status_code == 200
    # The success cleared the account's count: five new mistakes are free again.
    for i in range(5):
        assert _login(client, email, f"again {i}").status_code == 401
    assert _login(client, email, PASSWORD).status_code == 200


def test_one_address_guessing_many_accounts_is_locked(client, db) -> None:
    victim = make_user(db).email
    # 20 wrong passwords spread over 20 accounts: no account reaches its limit, the address does.
    for i in range(20):
        assert _login(client, f"nobody{i}@example.com", "guess").status_code == 401
    assert _login(client, "nobody20@example.com", "guess").status_code == 401  # the 21st locks
    refused = _login(client, victim, PASSWORD)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "too_many_login_attempts"


def test_backoff_doubles_up_to_the_cap() -> None:
    throttle = LoginThrottle(MemoryStorage(), free_account=5, base_seconds=1, cap_seconds=900)
    waits = [throttle.backoff(n, 5) for n in range(1, 22)]
    assert waits[:5] == [0] * 5
    assert waits[5:16] == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900]
    assert set(waits[16:]) == {900}
    assert throttle.backoff(10**9, 5) == 900  # no overflow however long an attack goes on


def test_refused_attempts_do_not_extend_the_lock() -> None:
    throttle = LoginThrottle(
        MemoryStorage(), free_account=1, free_address=100, base_seconds=2, cap_seconds=60
    )
    throttle.failed("a@example.com", "10.0.0.1")
    throttle.failed("a@example.com", "10.0.0.1")  # locked for 2 s
    for _ in range(50):
        with pytest.raises(Exception) as refused:
            throttle.check("a@example.com", "10.0.0.1")
        assert refused.value.retry_after <= 2  # type: ignore[attr-defined]


def test_keys_hide_emails_and_group_ipv6_clients() -> None:
    assert "example.com" not in account_key("A@Example.com")
    assert account_key(" a@example.com ") == account_key("A@EXAMPLE.COM")
    assert address_key("2001:db8::1") == address_key("2001:db8::ffff:1")  # same /64
    assert address_key("2001:db8::1") != address_key("2001:db8:0:1::1")
    assert address_key("::ffff:10.0.0.1") == address_key("10.0.0.1")
    assert address_key(None) == "addr:unknown"


def test_redis_storage_is_shared_between_throttles(redis_prefix: str) -> None:
    from tests.realtime_helpers import REDIS_URL

    settings = Settings(redis_url=REDIS_URL, redis_prefix=redis_prefix)
    first, second = LoginThrottle.from_settings(settings), LoginThrottle.from_settings(settings)
    email = f"{uuid.uuid4().hex}@example.com"
    for _ in range(settings.login_free_failures_account + 1):
        first.failed(email, "192.0.2.7")
    with pytest.raises(Exception) as refused:
        second.check(email, "198.51.100.1")  # another worker, another address: the account is locked
    assert refused.value.status_code == 429  # type: ignore[attr-defined]
    second.succeeded(email)
    first.check(email, "198.51.100.1")


def test_an_unreachable_redis_fails_open(caplog: pytest.LogCaptureFixture) -> None:
    throttle = LoginThrottle.from_settings(Settings(redis_url="redis://127.0.0.1:1/0"))
    throttle.failed("a@example.com", "10.0.0.1")
    throttle.check("a@example.com", "10.0.0.1")  # no exception: login goes on, loudly logged
    assert "not being throttled" in caplog.text


@pytest.mark.parametrize(
    ("locale", "text"), [("zh", "登录失败次数过多"), ("en", "Too many failed sign-in attempts")]
)
def test_the_login_page_says_when_to_try_again(client, db, locale: str, text: str) -> None:
    email = make_user(db).email
    client.get(f"/locale?to={locale}")
    token = form_token(client, "/login")
    answers = [
        client.post("/login", data={"email": email, "password": f"wrong {i}", "csrf_token": token})
        for i in range(7)
    ]
    assert [a.status_code for a in answers[:6]] == [401] * 6
    locked = answers[6]
    assert locked.status_code == 429
    assert text in locked.text
    assert int(locked.headers["Retry-After"]) >= 1


def test_long_waits_are_said_in_minutes() -> None:
    from zhongcao.web.account import throttled_message

    class Page:  # the one call throttled_message makes on a page: tn
        def __init__(self, locale: str) -> None:
            from zhongcao.web import i18n

            self.tn = lambda key, plural, num: i18n.translate_plural(locale, key, plural, num)

    assert throttled_message(Page("zh"), 30) == "登录失败次数过多，请 30 秒后再试。"
    assert throttled_message(Page("zh"), 900) == "登录失败次数过多，请 15 分钟后再试。"
    assert (
        throttled_message(Page("en"), 61 * 60) == "Too many failed sign-in attempts. Try again in 61 minutes."
    )
    throttle = LoginThrottle(MemoryStorage(), free_account=1, base_seconds=600, cap_seconds=600)
    throttle.failed("a@example.com", "10.0.0.1")
    throttle.failed("a@example.com", "10.0.0.1")
    with pytest.raises(Exception) as refused:
        throttle.check("a@example.com", "10.0.0.2")
    assert str(refused.value).endswith("try again in 10 minutes")
