"""The texts that name what a text-coded resource is, shared by the export and the import.

Where no confirmed code exists (``codes.yaml``), a resource's ``code`` or ``category`` is a
``CodeableConcept`` with text only; the import recognises the resource by that exact text.
Each text is written once, here, so the two directions cannot drift apart.
"""

from __future__ import annotations

__all__ = [
    "ASSESSMENT_PANEL", "ASSESSMENT_VALUES", "BIOPSY", "CATEGORY_COMPLICATION", "CATEGORY_DIAGNOSIS",
    "CATEGORY_MANIFESTATION", "CHAQ_ANSWERS", "CNO", "DIAGNOSIS_INPUTS", "LESION_FINDING",
    "RESOURCE_ORDER",
]

CNO = "Chronic nonbacterial osteomyelitis"
CATEGORY_DIAGNOSIS = "Registry diagnosis"
CATEGORY_MANIFESTATION = "Comorbidity or extra-osseous manifestation"
CATEGORY_COMPLICATION = "Complication of chronic nonbacterial osteomyelitis"
BIOPSY = "Bone biopsy"
ASSESSMENT_PANEL = "Clinical assessment"
CHAQ_ANSWERS = "CHAQ answers"
DIAGNOSIS_INPUTS = "Diagnostic criteria inputs"
LESION_FINDING = "Bone lesion finding"

#: assessments column -> Observation.code.text of its value
ASSESSMENT_VALUES = {
    "pga": "Physician global assessment",
    "pga_vas": "Physician global assessment, VAS 0-10",
    "patient_global_vas": "Patient global assessment, VAS 0-10",
    "pain_vas": "Pain, VAS 0-10",
    "chaq_di": "CHAQ disability index",
    "bone_pain": "Bone pain",
    "local_swelling": "Local swelling",
    "functional_impairment": "Functional impairment",
    "fever": "Fever",
    "disease_status": "Disease status",
    "active_lesion_count": "Clinically active lesion count",
}

#: the order of resource types in a Bundle (then by id)
RESOURCE_ORDER = (
    "Organization", "Patient", "Condition", "Medication", "MedicationStatement", "MedicationAdministration",
    "Observation", "ImagingStudy", "BodyStructure", "Procedure", "FamilyMemberHistory", "AdverseEvent",
)
