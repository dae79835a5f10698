"""governance: problem reports (问题数据) and their raises

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 15:08:31.048475
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('problem_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=100), nullable=False),
    sa.Column('key_field', sa.String(length=100), nullable=True),
    sa.Column('key_value', sa.String(length=200), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('observed', sa.Text(), nullable=True),
    sa.Column('expected', sa.Text(), nullable=True),
    sa.Column('validator', sa.String(length=20), nullable=True),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('rule_id', sa.Integer(), nullable=True),
    sa.Column('raised_by', sa.String(length=100), nullable=False),
    sa.Column('raised_on', sa.Date(), nullable=False),
    sa.Column('answer', sa.String(length=20), nullable=True),
    sa.Column('answer_reason', sa.Text(), nullable=False),
    sa.Column('fixed_version_id', sa.Integer(), nullable=True),
    sa.Column('answered_by', sa.String(length=100), nullable=True),
    sa.Column('answered_on', sa.Date(), nullable=True),
    sa.Column('verified', sa.Boolean(), nullable=True),
    sa.Column('verification', sa.JSON(), nullable=True),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('extended', sa.Boolean(), nullable=False),
    sa.Column('extension_reason', sa.Text(), nullable=False),
    sa.Column('escalated_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_problem_report_department_id_department')),
    sa.ForeignKeyConstraint(['fixed_version_id'], ['dataset_version.id'], name=op.f('fk_problem_report_fixed_version_id_dataset_version')),
    sa.ForeignKeyConstraint(['item_id'], ['work_item.id'], name=op.f('fk_problem_report_item_id_work_item')),
    sa.ForeignKeyConstraint(['resource_id'], ['resource.id'], name=op.f('fk_problem_report_resource_id_resource')),
    sa.ForeignKeyConstraint(['version_id'], ['dataset_version.id'], name=op.f('fk_problem_report_version_id_dataset_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_problem_report')),
    sa.UniqueConstraint('item_id', name=op.f('uq_problem_report_item_id'))
    )
    with op.batch_alter_table('problem_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_problem_report_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_problem_report_escalated_at'), ['escalated_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_problem_report_raised_by'), ['raised_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_problem_report_resource_id'), ['resource_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_problem_report_source'), ['source'], unique=False)

    op.create_table('problem_raise',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('problem_id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=100), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('raised_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], name=op.f('fk_problem_raise_department_id_department')),
    sa.ForeignKeyConstraint(['problem_id'], ['problem_report.id'], name=op.f('fk_problem_raise_problem_id_problem_report')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_problem_raise'))
    )
    with op.batch_alter_table('problem_raise', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_problem_raise_problem_id'), ['problem_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_problem_raise_username'), ['username'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('problem_raise', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_problem_raise_username'))
        batch_op.drop_index(batch_op.f('ix_problem_raise_problem_id'))

    op.drop_table('problem_raise')
    with op.batch_alter_table('problem_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_problem_report_source'))
        batch_op.drop_index(batch_op.f('ix_problem_report_resource_id'))
        batch_op.drop_index(batch_op.f('ix_problem_report_raised_by'))
        batch_op.drop_index(batch_op.f('ix_problem_report_escalated_at'))
        batch_op.drop_index(batch_op.f('ix_problem_report_department_id'))

    op.drop_table('problem_report')
