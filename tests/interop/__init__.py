"""Tests of the FHIR R4 and OMOP CDM v5.4 exports (issue 13) against independent validators."""
