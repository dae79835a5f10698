"""governance: field classification, level overrides, grade reviews

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 15:00:44.151135
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('level_override',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=100), nullable=False),
    sa.Column('level', sa.String(length=4), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['resource_id'], ['resource.id'], name=op.f('fk_level_override_resource_id_resource')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_level_override'))
    )
    with op.batch_alter_table('level_override', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_level_override_resource_id'), ['resource_id'], unique=False)

    op.create_table('field_detection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=True),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('match_share', sa.Float(), nullable=False),
    sa.Column('masked_share', sa.Float(), nullable=False),
    sa.Column('sampled', sa.Integer(), nullable=False),
    sa.Column('by_name', sa.Boolean(), nullable=False),
    sa.Column('detected_level', sa.String(length=4), nullable=False),
    sa.Column('category', sa.String(length=50), nullable=False),
    sa.ForeignKeyConstraint(['version_id'], ['dataset_version.id'], name=op.f('fk_field_detection_version_id_dataset_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_field_detection')),
    sa.UniqueConstraint('version_id', 'field', name=op.f('uq_field_detection_version_id'))
    )
    with op.batch_alter_table('field_detection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_field_detection_kind'), ['kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_field_detection_version_id'), ['version_id'], unique=False)

    op.create_table('grade_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('grade', sa.String(length=4), nullable=False),
    sa.Column('previous_grade', sa.String(length=4), nullable=True),
    sa.Column('needs_review', sa.Boolean(), nullable=False),
    sa.Column('reviewed_by', sa.String(length=100), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['resource_id'], ['resource.id'], name=op.f('fk_grade_review_resource_id_resource')),
    sa.ForeignKeyConstraint(['version_id'], ['dataset_version.id'], name=op.f('fk_grade_review_version_id_dataset_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grade_review'))
    )
    with op.batch_alter_table('grade_review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grade_review_needs_review'), ['needs_review'], unique=False)
        batch_op.create_index(batch_op.f('ix_grade_review_resource_id'), ['resource_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_grade_review_version_id'), ['version_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('grade_review', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grade_review_version_id'))
        batch_op.drop_index(batch_op.f('ix_grade_review_resource_id'))
        batch_op.drop_index(batch_op.f('ix_grade_review_needs_review'))

    op.drop_table('grade_review')
    with op.batch_alter_table('field_detection', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_field_detection_version_id'))
        batch_op.drop_index(batch_op.f('ix_field_detection_kind'))

    op.drop_table('field_detection')
    with op.batch_alter_table('level_override', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_level_override_resource_id'))

    op.drop_table('level_override')
