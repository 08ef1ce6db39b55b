"""the SHA-256 of a row's source file is derived, not stored in every row

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 19:30:00

- every record table: ``source_sha256`` dropped. It was the same 64 characters in every row an
  import wrote; it is ``imports.files[source_file]`` of the row's ``import_id`` (the file part
  of ``source_file``: ``book.xlsx`` of ``book.xlsx[labs]``), which ``cnotrack.store.provenance``
  reads.

Downgrade adds the column back and fills it from ``imports.files`` the same way.
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

TABLES = ("patients", "treatments", "assessments", "labs", "imaging", "lesions", "adverse_events", "diagnosis",
          "chaq")


def upgrade() -> None:
    # a plain DROP COLUMN (SQLite 3.35+ too): a batch rebuild of the table would lose the
    # expression indexes of the natural keys (coalesce(side, '')), which reflection cannot see
    for name in TABLES:
        op.execute(sa.text(f'ALTER TABLE "{name}" DROP COLUMN "source_sha256"'))


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == 'sqlite'
    for name in TABLES:
        op.execute(sa.text(f'ALTER TABLE "{name}" ADD COLUMN "source_sha256" VARCHAR(64)'))
        if sqlite:
            file = "CASE WHEN instr(t.source_file, '[') > 0 THEN substr(t.source_file, 1, " \
                   "instr(t.source_file, '[') - 1) ELSE t.source_file END"
            sha = f"""json_extract(i.files, '$."' || {file} || '"')"""
        else:
            sha = "(i.files::json ->> split_part(t.source_file, '[', 1))"
        op.execute(sa.text(
            f'UPDATE "{name}" AS t SET source_sha256 = (SELECT {sha} FROM imports i WHERE i.id = t.import_id) '
            "WHERE t.import_id IS NOT NULL AND t.source_file IS NOT NULL"))
