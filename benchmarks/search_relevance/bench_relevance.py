"""Search relevance on the Home Depot judged pairs: bm25s (characters, jieba), tantivy, zhongcao.

Usage:
    python benchmarks/search_relevance/bench_relevance.py [--seed 0] [--path FILE] [--format homedepot|jsonl]
Environment: ZHONGCAO_DATA_DIR (default ../shared/data, relative to the repository root); the file is
$ZHONGCAO_DATA_DIR/homedepot-search-relevance/train.csv unless --path is given.
The same table as ``zhongcao bench search PATH``; every row is scored on the same held-out queries.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--path", type=Path, default=None)
    parser.add_argument("--format", default="homedepot", choices=("homedepot", "jsonl"))
    args = parser.parse_args()
    data_dir = Path(os.environ.get("ZHONGCAO_DATA_DIR", ROOT / ".." / "shared" / "data"))
    if not data_dir.is_absolute():
        data_dir = ROOT / data_dir
    path = args.path or data_dir / "homedepot-search-relevance" / "train.csv"
    if not path.is_file():
        print(f"no data at {path}; set ZHONGCAO_DATA_DIR or pass --path", file=sys.stderr)
        raise SystemExit(2)

    sys.path.insert(0, str(ROOT))
    from benchmarks.search_relevance.relevance_rows import bench_search_command

    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; data: {path}")
    bench_search_command(path, args.format, args.seed)


if __name__ == "__main__":
    main()
