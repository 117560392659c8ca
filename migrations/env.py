"""Alembic environment: the engine comes from refdesk (Database.alembic_config) or DATABASE_URL."""

from alembic import context
from sqlalchemy import Engine

from bot.settings import load_settings
from store.db import make_engine
from store.models import Base, UTCDateTime

config = context.config
engine: Engine | None = config.attributes.get("engine")
if engine is None:
    engine = make_engine(load_settings().database_url)


def _render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    # Migrations stay free of app types: UTCDateTime is a plain timezone-aware DateTime on disk.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=_render_item,
    )
    context.run_migrations()
