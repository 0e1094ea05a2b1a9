"""`zhongcao check` reports the media store and whether ffmpeg is there, in plain words."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from zhongcao import cli
from zhongcao.cli import app
from zhongcao.config import get_settings
from zhongcao.media import videos

runner = CliRunner()


@pytest.fixture
def upgraded_env(tmp_path, monkeypatch):
    monkeypatch.setenv("ZHONGCAO_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.setenv("ZHONGCAO_MEDIA_DIR", str(tmp_path / "media"))
    # One table row per line, whatever the terminal (under xdist rich assumes 80 columns and wraps).
    monkeypatch.setattr(cli.console, "_width", 250)
    get_settings.cache_clear()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    yield tmp_path
    get_settings.cache_clear()


def test_check_names_the_media_folder_and_ffmpeg(upgraded_env):
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 0, result.output
    assert f"folder {upgraded_env / 'media'} writable" in result.output
    assert "ffmpeg and ffprobe found" in result.output


def test_missing_ffmpeg_is_reported_but_not_fatal(upgraded_env, monkeypatch):
    monkeypatch.setattr(videos.shutil, "which", lambda name: None)
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 0, result.output
    assert "missing" in result.output and "apt-get install ffmpeg" in result.output


def test_an_unusable_media_store_fails_the_check(upgraded_env, monkeypatch):
    monkeypatch.setenv("ZHONGCAO_MEDIA_BACKEND", "s3")
    get_settings.cache_clear()
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 1
    assert "ZHONGCAO_MEDIA_S3_BUCKET" in result.output and "Traceback" not in result.output
