"""The I/O floor of the benchmark: DuckDB merely parsing the CSV files of a registry.

``python bench/duckdb_floor.py FOLDER`` reads every ``*.csv`` of the folder with DuckDB's
``read_csv`` (its sniffer detects the dialect, the header and each column's type) into a table of
an in-memory database, all columns, and prints the number of rows of each. That is the least any
tool must do with the files (tokenise the quoted, CRLF-ended text and type every cell), with
none of the validation, vocabulary normalisation or protocol work that cnotrack and the pandas
baseline do; the benchmark times the whole process (interpreter and ``import duckdb`` included).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

__all__ = ["parse_folder"]


def parse_folder(folder: str | Path) -> dict[str, int]:
    """Parse each CSV file of ``folder`` into a DuckDB table; the number of rows of each."""
    import duckdb

    connection = duckdb.connect()
    rows = {}
    for path in sorted(Path(folder).glob("*.csv")):
        connection.execute(f'CREATE TABLE "{path.stem}" AS SELECT * FROM read_csv(?, header = true)',
                           [str(path)])
        rows[path.stem] = connection.execute(f'SELECT count(*) FROM "{path.stem}"').fetchone()[0]
    connection.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    print(json.dumps(parse_folder(parser.parse_args().folder)))


if __name__ == "__main__":
    main()
