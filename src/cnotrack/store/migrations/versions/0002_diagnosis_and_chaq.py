"""diagnosis and chaq tables

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 15:09:06.389788
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('chaq',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.String(length=200), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('dressing_1', sa.String(length=40), nullable=True),
    sa.Column('dressing_2', sa.String(length=40), nullable=True),
    sa.Column('dressing_3', sa.String(length=40), nullable=True),
    sa.Column('dressing_4', sa.String(length=40), nullable=True),
    sa.Column('arising_1', sa.String(length=40), nullable=True),
    sa.Column('arising_2', sa.String(length=40), nullable=True),
    sa.Column('eating_1', sa.String(length=40), nullable=True),
    sa.Column('eating_2', sa.String(length=40), nullable=True),
    sa.Column('eating_3', sa.String(length=40), nullable=True),
    sa.Column('walking_1', sa.String(length=40), nullable=True),
    sa.Column('walking_2', sa.String(length=40), nullable=True),
    sa.Column('hygiene_1', sa.String(length=40), nullable=True),
    sa.Column('hygiene_2', sa.String(length=40), nullable=True),
    sa.Column('hygiene_3', sa.String(length=40), nullable=True),
    sa.Column('hygiene_4', sa.String(length=40), nullable=True),
    sa.Column('hygiene_5', sa.String(length=40), nullable=True),
    sa.Column('reach_1', sa.String(length=40), nullable=True),
    sa.Column('reach_2', sa.String(length=40), nullable=True),
    sa.Column('reach_3', sa.String(length=40), nullable=True),
    sa.Column('reach_4', sa.String(length=40), nullable=True),
    sa.Column('grip_1', sa.String(length=40), nullable=True),
    sa.Column('grip_2', sa.String(length=40), nullable=True),
    sa.Column('grip_3', sa.String(length=40), nullable=True),
    sa.Column('grip_4', sa.String(length=40), nullable=True),
    sa.Column('grip_5', sa.String(length=40), nullable=True),
    sa.Column('activities_1', sa.String(length=40), nullable=True),
    sa.Column('activities_2', sa.String(length=40), nullable=True),
    sa.Column('activities_3', sa.String(length=40), nullable=True),
    sa.Column('activities_4', sa.String(length=40), nullable=True),
    sa.Column('activities_5', sa.String(length=40), nullable=True),
    sa.Column('dressing_aid', sa.Boolean(), nullable=True),
    sa.Column('arising_aid', sa.Boolean(), nullable=True),
    sa.Column('eating_aid', sa.Boolean(), nullable=True),
    sa.Column('walking_aid', sa.Boolean(), nullable=True),
    sa.Column('hygiene_aid', sa.Boolean(), nullable=True),
    sa.Column('reach_aid', sa.Boolean(), nullable=True),
    sa.Column('grip_aid', sa.Boolean(), nullable=True),
    sa.Column('activities_aid', sa.Boolean(), nullable=True),
    sa.Column('extra', sa.Text(), nullable=True, comment='JSON of extra attributes kept at import'),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.Column('source_file', sa.Text(), nullable=True),
    sa.Column('source_sha256', sa.String(length=64), nullable=True),
    sa.Column('source_row', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_chaq_import_id_imports')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.patient_id'], name=op.f('fk_chaq_patient_id_patients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chaq'))
    )
    with op.batch_alter_table('chaq', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chaq_patient_id'), ['patient_id'], unique=False)

    op.create_table('diagnosis',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.String(length=200), nullable=False),
    sa.Column('date', sa.Date(), nullable=True),
    sa.Column('typical_clinical', sa.Boolean(), nullable=True),
    sa.Column('typical_radiological', sa.Boolean(), nullable=True),
    sa.Column('normal_blood_count', sa.Boolean(), nullable=True),
    sa.Column('normal_temperature', sa.Boolean(), nullable=True),
    sa.Column('symmetric_lesions', sa.Boolean(), nullable=True),
    sa.Column('marginal_sclerosis', sa.Boolean(), nullable=True),
    sa.Column('vertebral_clavicular_or_sternal_lesion', sa.Boolean(), nullable=True),
    sa.Column('lesion_count', sa.Integer(), nullable=True),
    sa.Column('bones_involved', sa.Integer(), nullable=True),
    sa.Column('clavicle_only', sa.Boolean(), nullable=True),
    sa.Column('multifocal', sa.Boolean(), nullable=True),
    sa.Column('femur', sa.Boolean(), nullable=True),
    sa.Column('crp_mg_l', sa.Float(), nullable=True),
    sa.Column('band_neutrophils_per_ul', sa.Float(), nullable=True),
    sa.Column('biopsy_inflammatory_sterile', sa.Boolean(), nullable=True),
    sa.Column('extra', sa.Text(), nullable=True, comment='JSON of extra attributes kept at import'),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.Column('source_file', sa.Text(), nullable=True),
    sa.Column('source_sha256', sa.String(length=64), nullable=True),
    sa.Column('source_row', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_diagnosis_import_id_imports')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.patient_id'], name=op.f('fk_diagnosis_patient_id_patients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_diagnosis'))
    )
    with op.batch_alter_table('diagnosis', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_diagnosis_patient_id'), ['patient_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('diagnosis', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_diagnosis_patient_id'))

    op.drop_table('diagnosis')
    with op.batch_alter_table('chaq', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chaq_patient_id'))

    op.drop_table('chaq')
