"""OMOP CDM v5.4: a cnotrack dataset as OMOP tables, written as CSV and loaded into a database.

``omop_tables`` builds the tables, ``write_omop`` writes them as OHDSI-style CSV files, and
``load_omop`` creates the schema in DuckDB or PostgreSQL from the official DDL files the user
gives (cnotrack does not ship the DDL) and loads them. The mapping, field by field, and what is
lost on the way are in docs/interoperability.md.
"""

from .concepts import Concepts, verified_concepts
from .export import CDM_VERSION, OMOP_TABLES, OmopExport, omop_tables, write_omop
from .load import OmopLoad, load_omop

__all__ = ["CDM_VERSION", "OMOP_TABLES", "Concepts", "OmopExport", "OmopLoad", "load_omop", "omop_tables",
           "verified_concepts", "write_omop"]
