"""governance: code tables, data elements, conflicts between sources

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 15:53:23.378352
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('code_table',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('loaded_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_code_table')),
    sa.UniqueConstraint('name', name=op.f('uq_code_table_name'))
    )
    op.create_table('code_value',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('table_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('level', sa.String(length=20), nullable=False),
    sa.Column('parent_code', sa.String(length=20), nullable=True),
    sa.Column('valid_from', sa.Integer(), nullable=True),
    sa.Column('valid_to', sa.Integer(), nullable=True),
    sa.Column('sort_key', sa.String(length=30), nullable=False),
    sa.ForeignKeyConstraint(['table_id'], ['code_table.id'], name=op.f('fk_code_value_table_id_code_table')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_code_value')),
    sa.UniqueConstraint('table_id', 'code', name=op.f('uq_code_value_table_id'))
    )
    with op.batch_alter_table('code_value', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_code_value_table_id'), ['table_id'], unique=False)

    op.create_table('data_element',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('identifier', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('definition', sa.Text(), nullable=False),
    sa.Column('value_type', sa.String(length=20), nullable=False),
    sa.Column('format', sa.String(length=200), nullable=True),
    sa.Column('validator', sa.String(length=20), nullable=True),
    sa.Column('code_table', sa.String(length=50), nullable=True),
    sa.Column('source_resource_id', sa.Integer(), nullable=True),
    sa.Column('source_field', sa.String(length=100), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=100), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['source_resource_id'], ['resource.id'], name=op.f('fk_data_element_source_resource_id_resource')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_element')),
    sa.UniqueConstraint('identifier', name=op.f('uq_data_element_identifier')),
    sa.UniqueConstraint('name', name=op.f('uq_data_element_name'))
    )
    with op.batch_alter_table('data_element', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_data_element_source_resource_id'), ['source_resource_id'], unique=False)

    op.create_table('element_conflict_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('element_id', sa.Integer(), nullable=False),
    sa.Column('key_element', sa.String(length=32), nullable=False),
    sa.Column('source_resource_id', sa.Integer(), nullable=False),
    sa.Column('source_field', sa.String(length=100), nullable=False),
    sa.Column('source_key_field', sa.String(length=100), nullable=False),
    sa.Column('source_version', sa.Integer(), nullable=False),
    sa.Column('other_resource_id', sa.Integer(), nullable=False),
    sa.Column('other_field', sa.String(length=100), nullable=False),
    sa.Column('other_key_field', sa.String(length=100), nullable=False),
    sa.Column('other_version', sa.Integer(), nullable=False),
    sa.Column('compared', sa.Integer(), nullable=False),
    sa.Column('conflicts', sa.Integer(), nullable=False),
    sa.Column('found_by', sa.String(length=100), nullable=False),
    sa.Column('found_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['element_id'], ['data_element.id'], name=op.f('fk_element_conflict_run_element_id_data_element')),
    sa.ForeignKeyConstraint(['other_resource_id'], ['resource.id'], name=op.f('fk_element_conflict_run_other_resource_id_resource')),
    sa.ForeignKeyConstraint(['source_resource_id'], ['resource.id'], name=op.f('fk_element_conflict_run_source_resource_id_resource')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_element_conflict_run'))
    )
    with op.batch_alter_table('element_conflict_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_element_conflict_run_element_id'), ['element_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_element_conflict_run_other_resource_id'), ['other_resource_id'], unique=False)

    op.create_table('element_conflict',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('key_value', sa.String(length=200), nullable=False),
    sa.Column('source_value', sa.Text(), nullable=False),
    sa.Column('other_value', sa.Text(), nullable=False),
    sa.Column('first_seen', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['element_conflict_run.id'], name=op.f('fk_element_conflict_run_id_element_conflict_run')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_element_conflict'))
    )
    with op.batch_alter_table('element_conflict', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_element_conflict_run_id'), ['run_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('element_conflict', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_element_conflict_run_id'))

    op.drop_table('element_conflict')
    with op.batch_alter_table('element_conflict_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_element_conflict_run_other_resource_id'))
        batch_op.drop_index(batch_op.f('ix_element_conflict_run_element_id'))

    op.drop_table('element_conflict_run')
    with op.batch_alter_table('data_element', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_data_element_source_resource_id'))

    op.drop_table('data_element')
    with op.batch_alter_table('code_value', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_code_value_table_id'))

    op.drop_table('code_value')
    op.drop_table('code_table')
