"""Every domain's tables on one ``MetaData``: what Alembic compares, what tests empty.

The models modules import :mod:`zhongcao.db` (the ``Base`` they subclass), so ``db`` cannot import
them back; this module sits above both. Importing it registers every table on :data:`metadata`.
A new domain's ``models`` is added here.
"""

from __future__ import annotations

from sqlalchemy import MetaData, text

from zhongcao.affiliate import models as _affiliate  # noqa: F401
from zhongcao.aftersales import models as _aftersales  # noqa: F401
from zhongcao.audit import models as _audit
from zhongcao.campaigns import models as _campaigns  # noqa: F401
from zhongcao.catalog import models as _catalog  # noqa: F401
from zhongcao.commerce import models as _commerce  # noqa: F401
from zhongcao.content import models as _content  # noqa: F401
from zhongcao.db import Base, Database
from zhongcao.experience import models as _experience  # noqa: F401
from zhongcao.feed import models as _feed  # noqa: F401
from zhongcao.finance import models as _finance  # noqa: F401
from zhongcao.flashsales import models as _flashsales  # noqa: F401
from zhongcao.integrity import models as _integrity  # noqa: F401
from zhongcao.jobs import models as _jobs  # noqa: F401
from zhongcao.logistics import models as _logistics  # noqa: F401
from zhongcao.media import models as _media  # noqa: F401
from zhongcao.membership import models as _membership  # noqa: F401
from zhongcao.notifications import models as _notifications  # noqa: F401
from zhongcao.reviews import models as _reviews  # noqa: F401
from zhongcao.shops import models as _shops  # noqa: F401
from zhongcao.support import models as _support  # noqa: F401
from zhongcao.users import models as _users  # noqa: F401
from zhongcao.warehouse import models as _warehouse  # noqa: F401

metadata: MetaData = Base.metadata


def empty_all_tables(database: Database) -> None:
    """Delete every row of every table and restart ids (tests between cases; ``demo --fresh``)."""
    tables = [t.name for t in metadata.sorted_tables]
    with database.engine.begin() as conn:
        if database.dialect == "postgresql":
            conn.execute(
                text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
            )
        else:
            # The audit log refuses DELETE (append-only triggers): lift them for the emptying only.
            present = {
                row[0] for row in conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
            }
            lifted = [name for name in _audit.SQLITE_TRIGGERS if name in present]
            for name in lifted:
                conn.execute(text(f'DROP TRIGGER "{name}"'))
            for name in reversed(tables):
                conn.execute(text(f'DELETE FROM "{name}"'))
            if lifted:
                for statement in _audit.append_only_ddl("sqlite"):
                    conn.execute(text(statement))
            if conn.execute(text("SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'")).first():
                conn.execute(text("DELETE FROM sqlite_sequence"))
