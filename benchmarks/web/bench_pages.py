"""Server-side render time of the shopper pages against a running server (e.g. the medium demo world).

    .venv/bin/zhongcao demo --scale medium        # in another terminal: build, train, serve on :8000
    .venv/bin/python benchmarks/web/bench_pages.py --base http://127.0.0.1:8000 --runs 20

Signs in as the demo shopper through the login form, finds real ids by following the pages' own
links (a live room, a video, a shop, a product, an order and one of its items), warms every page once,
then times ``--runs`` sequential GETs of each on one keep-alive connection and prints p50 / p95 / max
in milliseconds. Localhost, so the time is the server's render time plus a loopback round trip.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time

import httpx

DEMO_EMAIL = "shopper@demo.zhongcao.example.com"
DEMO_PASSWORD = "zhongcao-demo"


def first(pattern: str, html: str) -> str | None:
    found = re.search(pattern, html)
    return found.group(1) if found else None


def sign_in(client: httpx.Client, email: str, password: str) -> None:
    page = client.get("/login").text
    token = first(r'name="csrf_token" value="([^"]+)"', page)
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token or ""})
    if response.status_code >= 400:
        raise SystemExit(f"sign-in failed: {response.status_code}")


def discover(client: httpx.Client) -> list[str]:
    feed = client.get("/").text
    mall = client.get("/mall").text
    orders = client.get("/orders").text
    urls = ["/", "/mall", "/search?q=面膜", "/search?q=", "/cart", "/orders"]
    video = first(r'href="(/videos/\d+)"', feed)
    live = first(r'href="(/live/\d+)"', feed)
    product = first(r'href="(/products/\d+)', mall)
    for url in (video, live, product):
        if url:
            urls.append(url)
    if product:
        page = client.get(product).text
        shop = first(r'href="(/shops/\d+)"', page)
        sku = first(r'name="sku_id" value="(\d+)"', page)
        if shop:
            urls.append(shop)
        if sku:
            urls.append(f"/checkout?sku={sku}&qty=1")
    order = first(r'href="(/orders/\d+)"', orders)
    if order:
        urls.append(order)
        detail = client.get(order).text
        for action in (
            r'href="(/orders/\d+/items/\d+/review)"',
            r'href="(/orders/\d+/items/\d+/after-sale)"',
            r'href="(/nps\?order_id=\d+)"',
        ):
            url = first(action, detail)
            if url:
                urls.append(url.replace("&amp;", "&"))
    return urls


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--email", default=DEMO_EMAIL)
    parser.add_argument("--password", default=DEMO_PASSWORD)
    args = parser.parse_args()
    with httpx.Client(base_url=args.base, timeout=60, follow_redirects=True) as client:
        sign_in(client, args.email, args.password)
        urls = discover(client)
        for url in urls:  # warm: the search index, the feed model, caches
            client.get(url)
        print(f"{'page':<48} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
        for url in urls:
            times = []
            for _ in range(args.runs):
                start = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - start) * 1000)
                if response.status_code != 200:
                    raise SystemExit(f"{url}: HTTP {response.status_code}")
            times.sort()
            p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
            print(f"{url:<48} {statistics.median(times):>8.1f} {p95:>8.1f} {times[-1]:>8.1f}")


if __name__ == "__main__":
    main()
