"""Compass: analytics for merchants and operators (DuckDB over a Parquet snapshot; the same SQL on Spark)."""
