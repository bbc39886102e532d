"""commitment status names: not_in_place and not_assessed

The engine names a commitment that is not in place `not_in_place` (it was
`missing`) and one with no applicable question `not_assessed` (it was
`not_applicable`, the name of an answer). Stored results follow.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

"""
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

RENAMES = (("missing", "not_in_place"), ("not_applicable", "not_assessed"))


def _rename(pairs):
    for old, new in pairs:
        op.execute(
            "UPDATE result_items SET status = '%s' WHERE kind = 'commitment' AND status = '%s'"
            % (new, old)
        )


def upgrade():
    _rename(RENAMES)


def downgrade():
    _rename((new, old) for old, new in RENAMES)
