"""FHIR R4 (4.0.1): a dataset written as one Bundle, and such a Bundle read back.

``fhir_bundle`` builds the Bundle (``collection`` or ``transaction``), ``write_fhir`` writes it
as JSON, ``dataset_from_fhir`` reads what cnotrack wrote. The mapping, resource by resource, is
in each module's docstring and in docs/interoperability.md; the only codes written are those of
``codes.yaml``, each with its source.
"""

from .bundle import BundleType, fhir_bundle, fhir_resources, write_fhir
from .codes import code_table
from .read import dataset_from_fhir

__all__ = ["BundleType", "code_table", "dataset_from_fhir", "fhir_bundle", "fhir_resources", "write_fhir"]
