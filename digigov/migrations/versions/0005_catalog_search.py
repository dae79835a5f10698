"""catalog search: character-pair index of resources, covering index for browsing

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 06:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    gram = op.create_table('resource_gram',
    sa.Column('gram', sa.String(length=2), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['resource_id'], ['resource.id'], name=op.f('fk_resource_gram_resource_id_resource'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('gram', 'resource_id', name=op.f('pk_resource_gram')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('resource', schema=None) as batch_op:
        batch_op.create_index('ix_resource_browse', ['state', 'department_id', 'updated_at', 'category', 'share_type', 'open_type', 'grade', 'update_cycle'], unique=False)

    # Index the resources that exist already, as digigov.catalog.models.bigrams does (a copy:
    # a migration must not change when the application code does).
    resource = sa.table('resource', sa.column('id', sa.Integer()), sa.column('search_text', sa.Text()))
    connection = op.get_bind()
    rows = []
    for resource_id, text in connection.execute(sa.select(resource.c.id, resource.c.search_text)):
        text = text or ''
        pairs = {text[i : i + 2] for i in range(len(text) - 1) if not (text[i].isspace() or text[i + 1].isspace())}
        rows += [{'gram': g, 'resource_id': resource_id} for g in sorted(pairs)]
        if len(rows) >= 50_000:
            op.bulk_insert(gram, rows)
            rows = []
    if rows:
        op.bulk_insert(gram, rows)


def downgrade() -> None:
    op.drop_table('resource_gram')
    with op.batch_alter_table('resource', schema=None) as batch_op:
        batch_op.drop_index('ix_resource_browse')
