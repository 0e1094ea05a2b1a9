"""What every command of the ``zhongcao`` command line shares: the consoles, failing with a message,
reading the settings, opening the database, migrating, and serving the API.

Public so that the commands that live beside their domain (``zhongcao demo`` in
:mod:`zhongcao.world.cli`, ``zhongcao import olist-catalog`` in :mod:`zhongcao.world.olist`) use the
same helpers as :mod:`zhongcao.cli` without importing the command line itself, which registers them.
"""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy.engine import make_url

from zhongcao.config import Settings, describe_invalid, get_settings

if TYPE_CHECKING:
    from zhongcao.db import Database

# The database, Alembic and the web stack are imported inside the helpers that need them: every
# command (``zhongcao --help`` too) loads this module, and most never touch them. None of these
# imports hides a cycle (``scripts/import_health.py`` checks that).

console = Console()
err = Console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print ``message`` as an error; the caller raises the returned exit (status ``code``)."""
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


def settings() -> Settings:
    """The settings, or exit 2 naming the variable that is wrong."""
    try:
        return get_settings()
    except ValidationError as exc:  # say which variable is wrong, in a sentence
        raise fail(f"configuration is invalid: {describe_invalid(exc)}", 2) from None


def database(settings: Settings) -> Database:
    """A database handle for ``settings`` (the caller disposes of it)."""
    from zhongcao.db import Database

    return Database(settings=settings)


def redacted(url: str) -> str:
    """The database URL with its password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparseable database URL>"


def upgrade(settings: Settings) -> str | None:
    """Apply every pending migration; the revision reached, or exit 1 saying why not."""
    from zhongcao import migrate

    handle = database(settings)
    try:
        migrate.upgrade(handle.engine)
        return migrate.current_revision(handle.engine)
    except Exception as exc:
        raise fail(
            f"could not migrate {redacted(settings.database_url)}: {str(exc).splitlines()[0]}"
        ) from exc
    finally:
        handle.dispose()


SHUTDOWN_GRACE_SECONDS = 5


def serve(host: str | None, port: int | None, workers: int = 1, migrate_first: bool = False) -> None:
    """Check the database (migrating it first when asked) and serve the API with uvicorn."""
    import uvicorn

    from zhongcao import migrate
    from zhongcao.health import database_checks

    current = settings()
    if migrate_first:
        upgrade(current)
    handle = database(current)
    problems = [c for c in database_checks(handle) if not c.ok]
    handle.dispose()
    if problems:
        raise fail("; ".join(p.detail for p in problems))
    host = host or current.host
    port = port or current.port
    console.print(
        f"[bold green]zhongcao[/] serving on [link]http://{host}:{port}[/]  (API docs: http://{host}:{port}/docs, "
        f"schema {migrate.head_revision()})"
    )
    uvicorn.run(
        "zhongcao.api:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=current.log_level,
        proxy_headers=True,
        # Live, chat and notification streams stay open for minutes (the browser reconnects to the
        # next server by itself): a stopping server gives requests this long, then closes what is open.
        timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
    )


def start_worker_process() -> subprocess.Popen[bytes]:
    """A job worker in a child process (``make demo`` serves with one beside it)."""
    return subprocess.Popen([sys.executable, "-m", "zhongcao.jobs"])


def stop_worker_process(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is None:
        child.terminate()  # the worker finishes the runs under way
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
