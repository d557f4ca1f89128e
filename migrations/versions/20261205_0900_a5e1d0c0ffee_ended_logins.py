"""ended logins: signing out ends the sign-in on the server too (a copied cookie stops working)

Revision ID: a5e1d0c0ffee
Revises: 7132f538d5bd
Create Date: 2026-12-05 09:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a5e1d0c0ffee'
down_revision = '7132f538d5bd'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ended_logins',
    sa.Column('login_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_ended_logins_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('login_id', name=op.f('pk_ended_logins'))
    )
    with op.batch_alter_table('ended_logins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ended_logins_ended_at'), ['ended_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_ended_logins_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('ended_logins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ended_logins_user_id'))
        batch_op.drop_index(batch_op.f('ix_ended_logins_ended_at'))
    op.drop_table('ended_logins')
