"""Logistics: carriers, parcels and their tracking (docs/logistics.md)."""
