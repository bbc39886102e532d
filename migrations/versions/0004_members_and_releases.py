"""members and releases: one organisation, one member; frozen cohort figures

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02

"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('member_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('superseded', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('join_origin', sa.String(length=16), nullable=True))
        batch_op.create_index(batch_op.f('ix_assessments_member_id'), ['member_id'], unique=False)
    op.create_table('releases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('members', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('figures', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_releases_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_releases'))
    )
    with op.batch_alter_table('releases', schema=None) as batch_op:
        batch_op.create_index('ix_releases_campaign_created', ['campaign_id', 'created_at'], unique=False)
    _link_members()


def _link_members():
    """Existing re-assessments join their first assessment's member; only the newest
    submitted result of each member counts."""
    connection = op.get_bind()
    rows = connection.execute(
        sa.text("SELECT id, previous_id, submitted_at FROM assessments ORDER BY id")
    ).fetchall()
    member = {}
    for id_, previous_id, _submitted in rows:
        member[id_] = member.get(previous_id, previous_id) if previous_id else None
        if previous_id and member[id_] is None:
            member[id_] = previous_id
    for id_, member_id in member.items():
        if member_id is not None:
            connection.execute(
                sa.text("UPDATE assessments SET member_id = :m WHERE id = :i"),
                {"m": member_id, "i": id_},
            )
    newest = {}
    for id_, _previous, submitted_at in rows:
        if submitted_at is not None:
            key = member[id_] or id_
            if key not in newest or (submitted_at, id_) > newest[key]:
                newest[key] = (submitted_at, id_)
    for id_, _previous, submitted_at in rows:
        key = member[id_] or id_
        if submitted_at is not None and newest[key][1] != id_:
            connection.execute(
                sa.text("UPDATE assessments SET superseded = :t WHERE id = :i"),
                {"t": True, "i": id_},
            )


def downgrade():
    with op.batch_alter_table('releases', schema=None) as batch_op:
        batch_op.drop_index('ix_releases_campaign_created')
    op.drop_table('releases')
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessments_member_id'))
        batch_op.drop_column('join_origin')
        batch_op.drop_column('superseded')
        batch_op.drop_column('member_id')
