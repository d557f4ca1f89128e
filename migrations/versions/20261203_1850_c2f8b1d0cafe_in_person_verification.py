"""in-person verification: keyed hash of the codice fiscale (unique), document type, house, revocation

Revision ID: c2f8b1d0cafe
Revises: 3f97d76b7024
Create Date: 2026-12-03 18:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c2f8b1d0cafe'
down_revision = '3f97d76b7024'
branch_labels = None
depends_on = None

FK_NAME = 'fk_users_verified_house_id_neighbourhood_houses'


def upgrade():
    # Plain ALTER TABLE ADD COLUMN, not a batch: on SQLite a batch would rebuild `users`, and
    # dropping the old table with foreign keys on would cascade into every table that points at it.
    sqlite = op.get_bind().dialect.name == 'sqlite'
    op.add_column('users', sa.Column('identity_hmac', sa.String(length=64), nullable=True))
    op.add_column('users', sa.Column('identity_document_type', sa.String(length=40), nullable=True))
    op.add_column('users', sa.Column('verification_revoked_at', sa.DateTime(timezone=True), nullable=True))
    present = {c['name'] for c in sa.inspect(op.get_bind()).get_columns('users')}
    if sqlite and 'verified_house_id' in present:
        pass  # left by a downgrade that could not rebuild the table safely (see downgrade())
    elif sqlite:
        # SQLite accepts a REFERENCES clause on an added column (it cannot add a constraint later);
        # no ON DELETE option, which SQLite could not reflect back from a column clause.
        op.execute(f'ALTER TABLE users ADD COLUMN verified_house_id INTEGER CONSTRAINT {FK_NAME} '
                   'REFERENCES neighbourhood_houses (id)')
    else:
        op.add_column('users', sa.Column('verified_house_id', sa.Integer(), nullable=True))
        op.create_foreign_key(FK_NAME, 'users', 'neighbourhood_houses', ['verified_house_id'], ['id'])
    # A unique index (not a table constraint: no table rebuild on SQLite); NULLs may repeat on both engines.
    op.create_index('ix_users_identity_hmac', 'users', ['identity_hmac'], unique=True)


def downgrade():
    op.drop_index('ix_users_identity_hmac', table_name='users')
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint(FK_NAME, 'users', type_='foreignkey')
        for column in ('verified_house_id', 'verification_revoked_at', 'identity_document_type', 'identity_hmac'):
            op.drop_column('users', column)
        return
    # SQLite: never rebuild `users` with foreign keys on — dropping the old table would cascade
    # (user_roles, notifications...). Plain DROP COLUMN works for the columns without a constraint.
    for column in ('verification_revoked_at', 'identity_document_type', 'identity_hmac'):
        op.execute(f'ALTER TABLE users DROP COLUMN {column}')
    # The column with a REFERENCES clause needs a rebuild, safe only with enforcement off (the
    # pragma is ignored inside a transaction, e.g. after an earlier step of a longer downgrade).
    op.execute('PRAGMA foreign_keys=OFF')
    if op.get_bind().exec_driver_sql('PRAGMA foreign_keys').scalar() == 0:
        with op.batch_alter_table('users', schema=None) as batch_op:
            batch_op.drop_column('verified_house_id')
        op.execute('PRAGMA foreign_keys=ON')
    # else: verified_house_id stays, nullable and unused by older code; upgrade() accepts it.
