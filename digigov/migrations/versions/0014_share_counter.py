"""sharing: per-grant call counters for the rate limit and the daily quota

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 14:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "share_counter",
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("span", sa.String(length=10), nullable=False),
        sa.Column("period", sa.String(length=20), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["grant_id"], ["share_grant.id"], name=op.f("fk_share_counter_grant_id_share_grant")),
        sa.PrimaryKeyConstraint("grant_id", "span", name=op.f("pk_share_counter")),
    )


def downgrade() -> None:
    op.drop_table("share_counter")
