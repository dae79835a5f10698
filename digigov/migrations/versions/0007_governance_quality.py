"""governance: quality rules, thresholds, runs and results

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 15:05:57.880723
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('quality_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('dimension', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('fields', sa.JSON(), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('origin', sa.String(length=20), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['resource_id'], ['resource.id'], name=op.f('fk_quality_rule_resource_id_resource')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_rule')),
    sa.UniqueConstraint('resource_id', 'name', name=op.f('uq_quality_rule_resource_id'))
    )
    with op.batch_alter_table('quality_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quality_rule_resource_id'), ['resource_id'], unique=False)

    op.create_table('quality_threshold',
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('threshold', sa.Float(), nullable=False),
    sa.Column('set_by', sa.String(length=100), nullable=False),
    sa.Column('set_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['resource_id'], ['resource.id'], name=op.f('fk_quality_threshold_resource_id_resource')),
    sa.PrimaryKeyConstraint('resource_id', name=op.f('pk_quality_threshold'))
    )
    op.create_table('quality_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('rows', sa.BigInteger(), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('dimensions', sa.JSON(), nullable=False),
    sa.Column('threshold', sa.Float(), nullable=False),
    sa.Column('flagged', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['resource_id'], ['resource.id'], name=op.f('fk_quality_run_resource_id_resource')),
    sa.ForeignKeyConstraint(['version_id'], ['dataset_version.id'], name=op.f('fk_quality_run_version_id_dataset_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_run'))
    )
    with op.batch_alter_table('quality_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quality_run_flagged'), ['flagged'], unique=False)
        batch_op.create_index(batch_op.f('ix_quality_run_resource_id'), ['resource_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quality_run_version_id'), ['version_id'], unique=False)

    op.create_table('quality_result',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=False),
    sa.Column('rule', sa.String(length=200), nullable=False),
    sa.Column('dimension', sa.String(length=20), nullable=False),
    sa.Column('checked_rows', sa.BigInteger(), nullable=False),
    sa.Column('failed_rows', sa.BigInteger(), nullable=False),
    sa.Column('sample', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['rule_id'], ['quality_rule.id'], name=op.f('fk_quality_result_rule_id_quality_rule')),
    sa.ForeignKeyConstraint(['run_id'], ['quality_run.id'], name=op.f('fk_quality_result_run_id_quality_run')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_result'))
    )
    with op.batch_alter_table('quality_result', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quality_result_rule_id'), ['rule_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_quality_result_run_id'), ['run_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('quality_result', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quality_result_run_id'))
        batch_op.drop_index(batch_op.f('ix_quality_result_rule_id'))

    op.drop_table('quality_result')
    with op.batch_alter_table('quality_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quality_run_version_id'))
        batch_op.drop_index(batch_op.f('ix_quality_run_resource_id'))
        batch_op.drop_index(batch_op.f('ix_quality_run_flagged'))

    op.drop_table('quality_run')
    op.drop_table('quality_threshold')
    with op.batch_alter_table('quality_rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quality_rule_resource_id'))

    op.drop_table('quality_rule')
