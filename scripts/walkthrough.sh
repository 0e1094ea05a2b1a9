#!/usr/bin/env bash
# A first order through the API, on an empty platform. Run against `make demo` (http://127.0.0.1:8000).
set -euo pipefail
API=${API:-http://127.0.0.1:8000}
ZC=${ZC:-.venv/bin/zhongcao}
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# 1. An operator (CLI), a merchant and a shopper.
ZHONGCAO_PASSWORD=ops-harbor-maple-77 $ZC users create --role operator --email ops@example.com --name 运营
ZHONGCAO_PASSWORD=shop-cedar-window-19 $ZC users create --role merchant --email owner@example.com --name 店主
OPS=$(curl -sf $API/api/auth/login -H 'content-type: application/json' \
  -d '{"email":"ops@example.com","password":"ops-harbor-maple-77"}' | json '["token"]')
SHOPPER=$(curl -sf $API/api/auth/register -H 'content-type: application/json' \
  -d '{"email":"me@example.com","password":"tea-lantern-river-42","display_name":"小红"}' | json '["token"]')

# 2. The operator sets up categories and opens a shop for the merchant.
TOP=$(curl -sf $API/api/ops/categories -H "Authorization: Bearer $OPS" -H 'content-type: application/json' \
  -d '{"slug":"apparel","name_zh":"服饰内衣","name_en":"Apparel"}' | json '["id"]')
LEAF=$(curl -sf $API/api/ops/categories -H "Authorization: Bearer $OPS" -H 'content-type: application/json' \
  -d "{\"slug\":\"dresses\",\"name_zh\":\"连衣裙\",\"name_en\":\"Dresses\",\"parent_id\":$TOP,\"platform_fee_bps\":500}" | json '["id"]')
OWNER_ID=$(curl -sf "$API/api/auth/login" -H 'content-type: application/json' \
  -d '{"email":"owner@example.com","password":"shop-cedar-window-19"}' | json '["user"]["id"]')
curl -sf $API/api/ops/shops -H "Authorization: Bearer $OPS" -H 'content-type: application/json' \
  -d "{\"name_zh\":\"小雅的衣橱\",\"name_en\":\"Xiaoya's Wardrobe\",\"owner_user_id\":$OWNER_ID,\"shipping_fee_fen\":800,\"free_shipping_threshold_fen\":9900}" >/dev/null

# 3. The merchant lists a dress with two sizes.
OWNER=$(curl -sf $API/api/auth/login -H 'content-type: application/json' \
  -d '{"email":"owner@example.com","password":"shop-cedar-window-19"}' | json '["token"]')
PRODUCT=$(curl -sf $API/api/merchant/products -H "Authorization: Bearer $OWNER" -H 'content-type: application/json' \
  -d "{\"category_id\":$LEAF,\"title_zh\":\"法式碎花连衣裙\",\"title_en\":\"French floral dress\",\"status\":\"active\",
       \"skus\":[{\"code\":\"DRESS-S\",\"attributes\":{\"size\":\"S\"},\"price_fen\":15900,\"stock\":20},
                 {\"code\":\"DRESS-M\",\"attributes\":{\"size\":\"M\"},\"price_fen\":15900,\"stock\":20}]}")
SKU=$(echo "$PRODUCT" | json '["skus"][0]["id"]')

# 4. The shopper checks out (one order per shop) and pays; the same Idempotency-Key never charges twice.
CHECKOUT=$(curl -sf $API/api/checkout -H "Authorization: Bearer $SHOPPER" -H 'content-type: application/json' \
  -H "Idempotency-Key: first-order-1" \
  -d "{\"items\":[{\"sku_id\":$SKU,\"quantity\":1,\"attribution\":{\"channel\":\"search\"}}],
       \"shipping_address\":{\"name\":\"小红\",\"phone\":\"13800000000\",\"province\":\"上海市\",\"city\":\"上海市\",\"district\":\"浦东新区\",\"line\":\"世纪大道 1 号\"}}")
CHECKOUT_ID=$(echo "$CHECKOUT" | json '["id"]')
curl -sf $API/api/checkouts/$CHECKOUT_ID/pay -H "Authorization: Bearer $SHOPPER" -H 'content-type: application/json' \
  -H "Idempotency-Key: first-pay-1" -d '{"payment_method":"pm_card_ok"}' | json '["status"]'

# 5. The merchant sees the order, with what the shop will be settled.
curl -sf "$API/api/merchant/orders?status=paid" -H "Authorization: Bearer $OWNER" \
  | json '["items"][0]' 
