"""indexes for the campaign dashboard's counts and release, and the export's area scores

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.create_index('ix_assessments_campaign_counted', ['campaign_id', 'superseded', 'submitted_at'], unique=False)
        batch_op.create_index('ix_assessments_campaign_member', ['campaign_id', sa.text('coalesce(member_id, id)'), 'member_id', 'id'], unique=False)
    with op.batch_alter_table('result_items', schema=None) as batch_op:
        batch_op.create_index('ix_result_items_assessment_kind_key', ['assessment_id', 'kind', 'key', 'value'], unique=False)
    with op.batch_alter_table('releases', schema=None) as batch_op:
        batch_op.create_index('ix_releases_campaign_latest', ['campaign_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('releases', schema=None) as batch_op:
        batch_op.drop_index('ix_releases_campaign_latest')
    with op.batch_alter_table('result_items', schema=None) as batch_op:
        batch_op.drop_index('ix_result_items_assessment_kind_key')
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_index('ix_assessments_campaign_member')
        batch_op.drop_index('ix_assessments_campaign_counted')
