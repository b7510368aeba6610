"""ringing: callers on the line now ("calling in now"); claims keep the call placed

Revision ID: 5a1c0e7d9b21
Revises: 02643fbf93d3
Create Date: 2026-12-01 18:20:00

"""
from alembic import op
import sqlalchemy as sa


revision = '5a1c0e7d9b21'
down_revision = '02643fbf93d3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('callback_ringing',
    sa.Column('number_e164', sa.String(length=20), nullable=False),
    sa.Column('since', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('number_e164', name=op.f('pk_callback_ringing'))
    )
    with op.batch_alter_table('callback_claims', schema=None) as batch_op:
        batch_op.add_column(sa.Column('call_id', sa.String(length=40), nullable=True))
        batch_op.create_index(batch_op.f('ix_callback_claims_call_id'), ['call_id'], unique=False)


def downgrade():
    with op.batch_alter_table('callback_claims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_callback_claims_call_id'))
        batch_op.drop_column('call_id')
    op.drop_table('callback_ringing')
