"""Row locks for rules that must see the latest state of one row (both engines).

PostgreSQL: ``SELECT … FOR UPDATE``. SQLite has no row locks: a no-op write takes the database's
write lock (waiting up to the busy timeout), which serialises every writer — BEGIN IMMEDIATE by
other means. Either way the row is then read afresh into the session.
"""
from sqlalchemy import select, update

from app.extensions import db


def lock_row(model, row_id, touch_column="id"):
    """The row of ``model`` with ``row_id``, locked for the rest of the transaction (None if missing)."""
    if db.session.get_bind().dialect.name == "sqlite":
        column = getattr(model, touch_column)
        db.session.execute(update(model).where(model.id == row_id).values({column: column}))
        stmt = select(model).where(model.id == row_id)
    else:
        stmt = select(model).where(model.id == row_id).with_for_update()
    return db.session.scalar(stmt.execution_options(populate_existing=True))
