"""Server-side render time of the merchant, creator and operator console pages against a running
server (e.g. the medium demo world).

    .venv/bin/zhongcao demo --scale medium        # in another terminal: build, train, serve on :8000
    .venv/bin/python benchmarks/web/bench_consoles.py --base http://127.0.0.1:8000 --runs 20

Signs in through the login form as a shop's staff (``--merchant``; the demo's good shop by default,
or any merchant account, e.g. one added to the busiest shop with ``zhongcao users create --role
merchant --shop-id N --shop-role operator``), the demo creator and the demo operator. Finds real ids
by following the pages' own links (a product, an order, an after-sales case, a conversation, a
campaign), warms every page once (the first request of a process also imports Plotly and may build
Compass's snapshot), then times ``--runs`` sequential GETs of each on one keep-alive connection and
prints first / p50 / p95 / max in milliseconds. Localhost: the server's render time plus a loopback
round trip.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time

import httpx

PASSWORD = "zhongcao-demo"
MERCHANT = "good-shop@demo.zhongcao.example.com"
CREATOR = "creator@demo.zhongcao.example.com"
OPERATOR = "operator@demo.zhongcao.example.com"


def first(pattern: str, html: str) -> str | None:
    found = re.search(pattern, html)
    return found.group(1) if found else None


def sign_in(client: httpx.Client, email: str, password: str) -> None:
    page = client.get("/login").text
    token = first(r'name="csrf_token" value="([^"]+)"', page)
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token or ""})
    if response.status_code >= 400:
        raise SystemExit(f"sign-in as {email} failed: {response.status_code}")


def merchant_pages(client: httpx.Client) -> list[str]:
    urls = [
        "/merchant",
        "/merchant/products",
        "/merchant/orders",
        "/merchant/orders?status=paid",
        "/merchant/after-sales",
        "/merchant/inbox",
        "/merchant/compass",
        "/merchant/compass?days=90",
        "/merchant/compass/funnels",
        "/merchant/compass/content",
        "/merchant/compass/audience",
        "/merchant/compass/search",
        "/merchant/score",
        # The merchant workplace (issue #15): editor, CSV, coupons, campaigns, content and live,
        # customer service's quick replies, membership, finance, staff, notifications.
        "/merchant/products/new",
        "/merchant/products/csv",
        "/merchant/products?low=1",
        "/merchant/coupons",
        "/merchant/coupons/new",
        "/merchant/campaigns",
        "/merchant/content",
        "/merchant/content/videos/new",
        "/merchant/content/live/new",
        "/merchant/inbox/quick-replies",
        "/merchant/members",
        "/merchant/finance",
        "/merchant/staff",
        "/merchant/notifications",
    ]
    for listing, pattern in (
        ("/merchant/products", r'href="(/merchant/products/\d+)"'),
        ("/merchant/orders", r'href="(/merchant/orders/\d+)"'),
        ("/merchant/after-sales", r'href="(/merchant/after-sales/\d+)"'),
        ("/merchant/inbox", r'href="(/merchant/inbox/\d+)"'),
        ("/merchant/coupons", r'href="(/merchant/coupons/\d+)"'),
        ("/merchant/campaigns", r'href="(/merchant/campaigns/\d+)"'),
        ("/merchant/content", r'href="(/merchant/live/\d+)"'),
    ):
        found = first(pattern, client.get(listing).text)
        if found:
            urls.append(found)
    return urls


def operator_pages(client: httpx.Client) -> list[str]:
    urls = [
        "/operator",
        "/operator?days=365",
        "/operator/gmv",
        "/operator/scores",
        "/operator/campaigns",
        "/operator/shop-applications",
        "/operator/notifications",
    ]
    campaign = first(r'href="(/operator/campaigns/\d+)"', client.get("/operator/campaigns").text)
    return urls + ([campaign] if campaign else [])


def measure(client: httpx.Client, urls: list[str], runs: int) -> None:
    for url in urls:
        began = time.perf_counter()
        response = client.get(url)
        cold = (time.perf_counter() - began) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{url}: HTTP {response.status_code}")
        times = []
        for _ in range(runs):
            began = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - began) * 1000)
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * len(times)) - 1)]
        print(
            f"{url:42s} first {cold:7.1f}  p50 {statistics.median(times):7.1f}  p95 {p95:7.1f}"
            f"  max {times[-1]:7.1f}  ({len(response.content) // 1024} KB)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--merchant", default=MERCHANT)
    parser.add_argument("--password", default=PASSWORD)
    args = parser.parse_args()
    print(f"{'page':42s} {'(ms)':>13s}")
    for email, pages in (
        (args.merchant, merchant_pages),
        (CREATOR, lambda _: ["/creator", "/creator/commissions", "/creator/plans", "/creator/notifications"]),
        (OPERATOR, operator_pages),
    ):
        with httpx.Client(base_url=args.base, timeout=60) as client:
            sign_in(client, email, args.password)
            print(f"-- {email}")
            measure(client, pages(client), args.runs)


if __name__ == "__main__":
    main()
