"""Shared pieces for the catalog and shops tests."""

from __future__ import annotations

# Every table the catalog and shops endpoints may write (for ``api_helpers.snapshot``).
CATALOG_TABLES = ("categories", "brands", "shops", "shop_staff", "products", "skus")
