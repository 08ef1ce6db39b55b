"""The audit trail's CSV export writes no cell that a spreadsheet would run as a formula."""

from __future__ import annotations

import csv
import io

from cnotrack.exchange.spreadsheet import FORMULA_TRIGGERS


def test_the_audit_trail_export_writes_no_cell_a_spreadsheet_would_run(web, monkeypatch):
    from cnotrack import records

    real = records.audit_trail_batches

    def hostile(*args, **kwargs):
        for entries in real(*args, **kwargs):
            yield [dict(e, actor="=HYPERLINK(\"http://evil.example\")", table="@SUM(1)") for e in entries]

    monkeypatch.setattr(records, "audit_trail_batches", hostile)
    exported = web.client("admin").get("/audit/export.csv")
    rows = list(csv.reader(io.StringIO(exported.text)))
    assert len(rows) > 1
    for row in rows:
        assert all(not cell or cell[0] not in FORMULA_TRIGGERS for cell in row), row
    assert rows[1][2] == "'=HYPERLINK(\"http://evil.example\")" and rows[1][4] == "'@SUM(1)"
