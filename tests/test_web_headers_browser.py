"""Security headers and CSRF in a real browser (headless Debian Chromium against the real server).

Every page of every role is checked by the page tests themselves: ``PageProblems``
(tests/web_helpers.py) fails a page served without the strict Content-Security-Policy or with any
CSP violation (a ``securitypolicyviolation`` event or Chromium's "Refused to ..." console error), and
test_web_browser.py (shopper), test_web_console_browser.py (merchant, creator, operator) and
test_web_flow_browser.py visit them all. This file checks what they cannot: that a violation is
indeed caught, the API docs pages under their own policy, framing, and the pages' scripts' writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web_helpers import CHROMIUM, LiveServer, PageProblems, WebWorld, seed_world, sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
    ),
]


@pytest.fixture
def site(app, db) -> Iterator[tuple[LiveServer, WebWorld]]:
    world = seed_world(db)
    db.commit()
    with LiveServer(app) as server:
        yield server, world


@pytest.fixture
def tab(browser) -> Iterator[tuple[Any, PageProblems]]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    problems = PageProblems(page)
    yield page, problems
    context.close()


def test_a_violation_is_caught(site, tab):
    server, _ = site
    page, problems = tab
    page.goto(server.url + "/login")
    assert problems.take() == [] and problems.documents == 1
    # What an injected attribute or script would do: the policy blocks both, and the test sees it.
    page.evaluate(
        """() => {
        document.body.insertAdjacentHTML("beforeend", '<p style="color: red">x</p>');
        const s = document.createElement("script"); s.textContent = "window.pwned = 1";
        document.body.appendChild(s);
    }"""
    )
    page.wait_for_timeout(200)
    assert page.evaluate("window.pwned") is None
    found = problems.take()
    assert any("CSP violation: style-src-attr" in f for f in found), found
    assert any("CSP violation: script-src-elem" in f for f in found), found


def test_the_api_docs_render_under_their_policy(site, tab):
    server, _ = site
    page, problems = tab
    page.goto(server.url + "/docs")
    page.locator(".swagger-ui .info .title").wait_for()
    page.locator(".opblock").first.wait_for()
    assert problems.take() == []
    page.goto(server.url + "/redoc")
    page.locator(".api-content h1").first.wait_for()
    page.wait_for_load_state("networkidle")
    # ReDoc's sidebar asks for Redocly's logo from its CDN, whatever the options: the policy blocks
    # that (nothing loads from a CDN) and ReDoc hides the image. Nothing else may be blocked.
    found = problems.take()
    assert found and all("https://cdn.redoc.ly/redoc/logo-mini.svg" in problem for problem in found), found
    assert problems.documents == 2


def test_no_page_can_be_framed(site, tab):
    server, _ = site
    page, problems = tab
    # Another origin (the same server under another host name) tries to frame the sign-in page.
    framer = server.url.replace("127.0.0.1", "localhost") + "/no-such-page"
    page.route(
        framer,
        lambda route: route.fulfill(
            status=200, content_type="text/html", body=f'<iframe src="{server.url}/login"></iframe>'
        ),
    )
    page.goto(framer)
    page.wait_for_timeout(500)
    child = page.frames[1]
    assert child.url.startswith("chrome-error://") or child.locator("form").count() == 0
    problems.take()  # Chromium's own "Refused to display ... in a frame" error is the point here


def test_the_pages_scripts_write_with_the_token(site, tab):
    server, world = site
    page, problems = tab
    sign_in(page, server.url, world.shopper_email)
    body = '{"name": "from a page"}'
    status = page.evaluate(
        """(body) => zhongcao.send("/api/me/tokens",
            {method: "POST", headers: {"Content-Type": "application/json"}, body}).then(r => r.status)""",
        body,
    )
    assert status == 201
    # The same write without the token is refused, though the browser sends the cookie.
    refused = page.evaluate(
        """(body) => fetch("/api/me/tokens", {method: "POST", headers: {"Content-Type": "application/json"},
            body}).then(r => r.json().then(j => [r.status, j.error.code]))""",
        body,
    )
    assert refused == [403, "csrf_failed"]
    assert [p for p in problems.take() if "403" not in p] == []
