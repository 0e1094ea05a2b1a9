"""Where Compass's SQL runs: DuckDB in-process (the default), or Apache Spark (PySpark) for users who
outgrow one machine. Both read the same Parquet snapshot and run the same SQL text
(:mod:`zhongcao.compass.queries` keeps to the SQL both dialects share), so their answers are equal.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Protocol

TABLES = (
    "sales",
    "visitors",
    "content_daily",
    "products",
    "reviews",
    "product_daily",
    "search_queries",
    "search_daily",
    "search_demand",
)


class Engine(Protocol):
    name: str

    def rows(self, sql: str) -> list[dict[str, Any]]:
        """The query's rows as dicts (column name -> Python value), in the query's order."""
        ...


class DuckDBEngine:
    name = "duckdb"

    def __init__(self, snapshot_dir: Path) -> None:
        self.snapshot_dir = Path(snapshot_dir)
        self._local = threading.local()

    def _connection(self) -> Any:
        import duckdb

        con = getattr(self._local, "con", None)
        if con is None:
            con = duckdb.connect()
            con.execute("SET TimeZone = 'UTC'")
            for table in TABLES:
                path = str(self.snapshot_dir / f"{table}.parquet").replace("'", "''")
                con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{path}')")
            self._local.con = con
        return con

    def rows(self, sql: str) -> list[dict[str, Any]]:
        cursor = self._connection().cursor()
        result = cursor.execute(sql)
        names = [d[0] for d in result.description]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


class SparkEngine:
    """Spark in local mode by default (``master``: any Spark master URL)."""

    name = "spark"

    def __init__(self, snapshot_dir: Path, master: str = "local[2]") -> None:
        from pyspark.sql import SparkSession

        self.spark = (
            SparkSession.builder.master(master)
            .appName("zhongcao-compass")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "4")
            .getOrCreate()
        )
        for table in TABLES:
            self.spark.read.parquet(str(Path(snapshot_dir) / f"{table}.parquet")).createOrReplaceTempView(
                table
            )

    def rows(self, sql: str) -> list[dict[str, Any]]:
        return [row.asDict() for row in self.spark.sql(sql).collect()]

    def stop(self) -> None:
        self.spark.stop()
