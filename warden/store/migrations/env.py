"""Alembic environment: migrates the database named by the `sqlalchemy.url` option."""

from alembic import context
from sqlalchemy import create_engine, pool

from warden.store import moderation_models  # noqa: F401  (registers the moderation tables)
from warden.store import media_models  # noqa: F401  (registers the media tables)
from warden.store import client_models  # noqa: F401  (lists, filters, markers, bookmarks, conversations)
from warden.store import client2_models  # noqa: F401  (follow requests, polls, pins, scheduled, trends, ...)
from warden.store import hash_models  # noqa: F401  (registers the image moderation tables)
from warden.store import client3_models  # noqa: F401  (notification requests, push subscriptions)
from warden.store import copy_models  # noqa: F401  (the fingerprints of removed posts: copies are held)
from warden.store.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
