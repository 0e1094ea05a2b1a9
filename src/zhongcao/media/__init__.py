"""Uploaded images and videos: validated, cleaned, re-encoded and kept in object storage (docs/media.md)."""
