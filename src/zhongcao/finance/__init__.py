"""Finance: per-order settlements of completed orders, shop statements (docs/money.md, Settlement)."""
