"""Behaviour events: model, durable storage (embedded segment log + Parquet, or PostgreSQL), ingestion."""
