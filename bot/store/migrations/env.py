"""Alembic runs this for each command: the migrations run on the connection bot.store.migrations passes in."""
from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString

from bot.store import tables


def render_item(type_: str, obj, autogen_context) -> str | bool:
    """Autogenerate writes plain SQLAlchemy types, so revisions never import app code that may change later."""
    if type_ == "type" and isinstance(obj, tables.UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, AutoString):
        return "sa.String()" if obj.length is None else f"sa.String(length={obj.length})"
    return False


connection = context.config.attributes.get("connection")
if connection is None or context.is_offline_mode():
    raise RuntimeError("run migrations through bot.store.migrations (create_schema, or python -m bot.store.migrations)")

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things: autogenerate writes batch (copy-and-move) operations
    compare_type=True,
    render_item=render_item,
)
with context.begin_transaction():
    context.run_migrations()
