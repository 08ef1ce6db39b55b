"""compact imports: a row hash per record, the rows an import added as id ranges in the audit

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 19:00:00

- every record table: ``row_hash`` (BigInteger, nullable), the stable hash of the data columns
  an import wrote, so that a re-import finds unchanged rows without reading their values
  (rows stored before have none: they are compared by value);
- ``audit_log.last_record_id``: an import's added rows are one audit row per run of ids
  (``record_id`` to ``last_record_id``) instead of one per row with a copy of it.

Downgrade expands every range into one ``insert`` row per record (key as JSON, no copy of the
row), as the older schema expects, and drops both columns.
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

TABLES = ("patients", "treatments", "assessments", "labs", "imaging", "lesions", "adverse_events", "diagnosis",
          "chaq")
KEYS = {"patients": ("patient_id",), "treatments": ("patient_id", "drug", "start_date"),
        "assessments": ("patient_id", "date"), "labs": ("patient_id", "date", "test"), "imaging": ("study_id",),
        "lesions": ("study_id", "bone", "side", "segment"), "adverse_events": ("patient_id", "onset_date", "term"),
        "diagnosis": ("patient_id",), "chaq": ("patient_id", "date")}


def upgrade() -> None:
    for name in TABLES:
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.add_column(sa.Column('row_hash', sa.BigInteger(), nullable=True,
                                          comment='stable hash of the data columns written by an import '
                                                  '(cnotrack.store.changes); null after a web edit'))
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_record_id', sa.Integer(), nullable=True,
                                      comment="an import's added rows: record_id to last_record_id, one audit row "
                                              "per run of ids"))


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for name in TABLES:
        pairs = ", ".join(f"'{k}', t.{k}" for k in KEYS[name])
        key = f"json_object({pairs})" if sqlite else f"json_build_object({pairs})::text"
        op.execute(sa.text(
            "INSERT INTO audit_log (at, actor, action, table_name, record_id, record_key, import_id, kind) "
            f"SELECT a.at, a.actor, 'insert', a.table_name, t.id, {key}, a.import_id, a.kind "
            f"FROM audit_log a JOIN {name} t ON t.id BETWEEN a.record_id AND a.last_record_id "
            f"WHERE a.table_name = '{name}' AND a.last_record_id IS NOT NULL ORDER BY a.id, t.id"))
    op.execute(sa.text("DELETE FROM audit_log WHERE last_record_id IS NOT NULL"))
    # a plain DROP COLUMN (SQLite 3.35+ too): a batch rebuild of the table would lose the
    # expression indexes of the natural keys (coalesce(side, '')), which reflection cannot see
    for name, column in [("audit_log", "last_record_id")] + [(t, "row_hash") for t in TABLES]:
        op.execute(sa.text(f'ALTER TABLE "{name}" DROP COLUMN "{column}"'))
