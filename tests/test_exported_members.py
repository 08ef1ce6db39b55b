"""The public API is what ``cnotrack.__all__`` says, no more and no less."""

import cnotrack

EXPORTED = [
    "CnotrackError",
    "Dataset",
    "DatasetError",
    "EvaluationError",
    "ImportReport",
    "InstrumentInputError",
    "Problem",
    "ProtocolError",
    "Store",
    "StoreError",
    "VocabularyError",
    "__version__",
    "anatomy",
    "check_dataset",
    "drugs",
    "export_dataset",
    "import_dataset",
    "lab_tests",
    "load_dataset",
    "open_store",
    "read_store",
    "validate_dataset",
    "write_template",
]


def test_the_exported_names_are_exactly_the_public_api():
    assert sorted(cnotrack.__all__) == sorted(EXPORTED)
    assert len(cnotrack.__all__) == len(set(cnotrack.__all__))


def test_every_exported_name_exists():
    for name in cnotrack.__all__:
        assert hasattr(cnotrack, name), name


def test_every_exported_class_and_function_is_cnotracks_own_and_documented():
    for name in cnotrack.__all__:
        member = getattr(cnotrack, name)
        if callable(member):
            assert member.__module__.startswith("cnotrack"), name
            assert member.__doc__, f"{name} has no docstring"


def test_every_error_is_a_cnotrack_error():
    for name in cnotrack.__all__:
        member = getattr(cnotrack, name)
        if isinstance(member, type) and issubclass(member, Exception):
            assert issubclass(member, cnotrack.CnotrackError), name
