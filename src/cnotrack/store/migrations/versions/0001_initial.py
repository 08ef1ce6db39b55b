"""initial schema: records, imports, audit trail

Revision ID: 0001
Revises: 
Create Date: 2026-11-24 15:00:11.961242
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('files', sa.Text(), nullable=False, comment='JSON: file name -> SHA-256'),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('imported_by', sa.String(length=200), nullable=False),
    sa.Column('inserted', sa.Integer(), nullable=False),
    sa.Column('updated', sa.Integer(), nullable=False),
    sa.Column('unchanged', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_imports'))
    )
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False, comment='insert, update, delete, restore'),
    sa.Column('table_name', sa.String(length=40), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('record_key', sa.Text(), nullable=False, comment='JSON of the natural key'),
    sa.Column('before', sa.Text(), nullable=True, comment='JSON of the row before'),
    sa.Column('after', sa.Text(), nullable=True, comment='JSON of the row after'),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_audit_log_import_id_imports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_record', ['table_name', 'record_id'], unique=False)

    op.create_table('patients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.String(length=200), nullable=False),
    sa.Column('sex', sa.String(length=40), nullable=False),
    sa.Column('birth_date', sa.String(length=10), nullable=True),
    sa.Column('onset_date', sa.Date(), nullable=True),
    sa.Column('diagnosis_date', sa.Date(), nullable=True),
    sa.Column('center', sa.Text(), nullable=True),
    sa.Column('extra', sa.Text(), nullable=True, comment='JSON of extra attributes kept at import'),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.Column('source_file', sa.Text(), nullable=True),
    sa.Column('source_sha256', sa.String(length=64), nullable=True),
    sa.Column('source_row', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_patients_import_id_imports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patients')),
    sa.UniqueConstraint('patient_id', name=op.f('uq_patients_patient_id'))
    )
    op.create_table('adverse_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.String(length=200), nullable=False),
    sa.Column('onset_date', sa.Date(), nullable=False),
    sa.Column('term', sa.Text(), nullable=False),
    sa.Column('grade', sa.Integer(), nullable=True),
    sa.Column('serious', sa.Boolean(), nullable=True),
    sa.Column('drug', sa.String(length=80), nullable=True),
    sa.Column('outcome', sa.String(length=40), nullable=True),
    sa.Column('extra', sa.Text(), nullable=True, comment='JSON of extra attributes kept at import'),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.Column('source_file', sa.Text(), nullable=True),
    sa.Column('source_sha256', sa.String(length=64), nullable=True),
    sa.Column('source_row', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_adverse_events_import_id_imports')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.patient_id'], name=op.f('fk_adverse_events_patient_id_patients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_adverse_events'))
    )
    with op.batch_alter_table('adverse_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_adverse_events_patient_id'), ['patient_id'], unique=False)

    op.create_table('assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.String(length=200), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('pga', sa.String(length=40), nullable=True),
    sa.Column('pga_vas', sa.Float(), nullable=True),
    sa.Column('patient_global_vas', sa.Float(), nullable=True),
    sa.Column('pain_vas', sa.Float(), nullable=True),
    sa.Column('chaq_di', sa.Float(), nullable=True),
    sa.Column('bone_pain', sa.Boolean(), nullable=True),
    sa.Column('local_swelling', sa.Boolean(), nullable=True),
    sa.Column('functional_impairment', sa.Boolean(), nullable=True),
    sa.Column('fever', sa.Boolean(), nullable=True),
    sa.Column('extra', sa.Text(), nullable=True, comment='JSON of extra attributes kept at import'),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.Column('source_file', sa.Text(), nullable=True),
    sa.Column('source_sha256', sa.String(length=64), nullable=True),
    sa.Column('source_row', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_assessments_import_id_imports')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.patient_id'], name=op.f('fk_assessments_patient_id_patients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessments'))
    )
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessments_patient_id'), ['patient_id'], unique=False)

    op.create_table('imaging',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.String(length=200), nullable=False),
    sa.Column('study_id', sa.String(length=200), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('modality', sa.String(length=40), nullable=False),
    sa.Column('extra', sa.Text(), nullable=True, comment='JSON of extra attributes kept at import'),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.Column('source_file', sa.Text(), nullable=True),
    sa.Column('source_sha256', sa.String(length=64), nullable=True),
    sa.Column('source_row', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_imaging_import_id_imports')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.patient_id'], name=op.f('fk_imaging_patient_id_patients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_imaging')),
    sa.UniqueConstraint('study_id', name=op.f('uq_imaging_study_id'))
    )
    with op.batch_alter_table('imaging', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_imaging_patient_id'), ['patient_id'], unique=False)

    op.create_table('labs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.String(length=200), nullable=False),
    sa.Column('date', sa.Date(), nullable=False),
    sa.Column('test', sa.String(length=20), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('censor', sa.String(length=1), nullable=True, comment="'<' or '>' for a censored value"),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('ref_high', sa.Float(), nullable=True),
    sa.Column('ref_low', sa.Float(), nullable=True),
    sa.Column('extra', sa.Text(), nullable=True, comment='JSON of extra attributes kept at import'),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.Column('source_file', sa.Text(), nullable=True),
    sa.Column('source_sha256', sa.String(length=64), nullable=True),
    sa.Column('source_row', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_labs_import_id_imports')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.patient_id'], name=op.f('fk_labs_patient_id_patients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_labs'))
    )
    with op.batch_alter_table('labs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_labs_patient_id'), ['patient_id'], unique=False)

    op.create_table('treatments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.String(length=200), nullable=False),
    sa.Column('drug', sa.String(length=80), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('stop_date', sa.Date(), nullable=True),
    sa.Column('dose', sa.Float(), nullable=True),
    sa.Column('dose_unit', sa.Text(), nullable=True),
    sa.Column('route', sa.String(length=40), nullable=True),
    sa.Column('stop_reason', sa.String(length=40), nullable=True),
    sa.Column('extra', sa.Text(), nullable=True, comment='JSON of extra attributes kept at import'),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.Column('source_file', sa.Text(), nullable=True),
    sa.Column('source_sha256', sa.String(length=64), nullable=True),
    sa.Column('source_row', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_treatments_import_id_imports')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.patient_id'], name=op.f('fk_treatments_patient_id_patients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_treatments'))
    )
    with op.batch_alter_table('treatments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_treatments_patient_id'), ['patient_id'], unique=False)

    op.create_table('lesions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('study_id', sa.String(length=200), nullable=False),
    sa.Column('bone', sa.String(length=40), nullable=False),
    sa.Column('side', sa.String(length=40), nullable=True),
    sa.Column('segment', sa.String(length=40), nullable=True),
    sa.Column('activity', sa.String(length=40), nullable=True),
    sa.Column('grade', sa.Integer(), nullable=True),
    sa.Column('symptomatic', sa.Boolean(), nullable=True),
    sa.Column('lesion_id', sa.String(length=200), nullable=True),
    sa.Column('extra', sa.Text(), nullable=True, comment='JSON of extra attributes kept at import'),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('import_id', sa.Integer(), nullable=True),
    sa.Column('source_file', sa.Text(), nullable=True),
    sa.Column('source_sha256', sa.String(length=64), nullable=True),
    sa.Column('source_row', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['import_id'], ['imports.id'], name=op.f('fk_lesions_import_id_imports')),
    sa.ForeignKeyConstraint(['study_id'], ['imaging.study_id'], name=op.f('fk_lesions_study_id_imaging')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lesions'))
    )
    with op.batch_alter_table('lesions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lesions_study_id'), ['study_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('lesions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lesions_study_id'))

    op.drop_table('lesions')
    with op.batch_alter_table('treatments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_treatments_patient_id'))

    op.drop_table('treatments')
    with op.batch_alter_table('labs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_labs_patient_id'))

    op.drop_table('labs')
    with op.batch_alter_table('imaging', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_imaging_patient_id'))

    op.drop_table('imaging')
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessments_patient_id'))

    op.drop_table('assessments')
    with op.batch_alter_table('adverse_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_adverse_events_patient_id'))

    op.drop_table('adverse_events')
    op.drop_table('patients')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_record')

    op.drop_table('audit_log')
    op.drop_table('imports')
