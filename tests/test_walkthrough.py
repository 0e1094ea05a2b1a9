"""The README's walkthrough (scripts/walkthrough.sh) runs as written against a real server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

# Starts the real server and runs the whole curl walkthrough against it: slow.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_walkthrough_script(tmp_path):
    port = _free_port()
    env = dict(
        os.environ, ZHONGCAO_DATABASE_URL=f"sqlite:///{tmp_path}/walk.db", ZHONGCAO_LOG_LEVEL="warning"
    )
    zhongcao = [sys.executable, "-m", "zhongcao.cli"]
    subprocess.run([*zhongcao, "db", "upgrade"], env=env, check=True, capture_output=True)
    server = subprocess.Popen(
        [*zhongcao, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "server did not start"
            assert server.poll() is None, server.stderr.read().decode()
            time.sleep(0.2)
        wrapper = tmp_path / "zhongcao"
        wrapper.write_text(f'#!/bin/sh\nexec {sys.executable} -m zhongcao.cli "$@"\n')
        wrapper.chmod(0o755)
        result = subprocess.run(
            ["bash", str(ROOT / "scripts" / "walkthrough.sh")],
            env=env | {"API": f"http://127.0.0.1:{port}", "ZC": str(wrapper)},
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "paid" in result.stdout
    assert "'shop_settlement_fen': 15105" in result.stdout  # 159.00 minus the 5% platform fee
