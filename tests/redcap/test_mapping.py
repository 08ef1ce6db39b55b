"""The mapping file: schema-checked, every problem naming the file, line and key path; checked
against the exchange format and against the project's dictionary; and drafted from a
dictionary (for this CNO project and for the real fixture projects) as YAML that loads or says
in its ``# review:`` notes what to fill."""

from __future__ import annotations

import csv
import io
import re

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from cnotrack.errors import DatasetError
from cnotrack.interop.redcap.draft import draft_mapping
from cnotrack.interop.redcap.mapping import Source, check_mapping, load_mapping
from cnotrack.interop.redcap.project import Field

from .conftest import reference_file
from .test_apply import MAPPING, read_cno_project, write_cno_project


def problems_of(text: str) -> list:
    with pytest.raises(DatasetError) as info:
        load_mapping(text, label="map.yaml")
    return info.value.problems


@pytest.fixture
def project(tmp_path):
    return read_cno_project(write_cno_project(tmp_path / "redcap"))


def test_the_documented_example_mapping_loads_from_a_file_or_from_text(tmp_path) -> None:
    path = tmp_path / "map.yaml"
    path.write_text(MAPPING, "utf-8")
    from_file, from_text = load_mapping(path), load_mapping(MAPPING)
    assert from_file.label == "map.yaml" and from_text.label == "mapping"
    assert from_file.blocks == from_text.blocks
    assert [b.table for b in from_file.blocks][:3] == ["patients", "assessments", "labs"]
    assert from_file.blocks[6].columns["bone"].codes == {"1": "femur", "2": "tibia", "3": "clavicle"}
    assert load_mapping(str(path)).blocks == from_file.blocks


def test_an_unknown_key_is_named_by_its_path_and_line() -> None:
    text = MAPPING.replace("      sex: {field: sex}", "      sex: {field: sex, cods: {'1': F}}")
    [problem] = problems_of(text)
    assert (problem.table, problem.column, problem.value) == ("map.yaml", "blocks[0].columns.sex", "cods")
    assert problem.row == 9
    assert str(problem).startswith("map.yaml, row 9, column 'blocks[0].columns.sex': unknown key 'cods'; "
                                   "the keys here are field, join, separator, value, checked, checked_choice, codes")


def test_every_problem_of_the_file_is_reported_at_once() -> None:
    text = (MAPPING.replace("cnotrack_mapping: 1", "cnotrack_mapping: 2")
            .replace("      pga: {field: pga}", "      pga: {field: pga, value: moderate}")
            .replace("  - table: imaging\n", "  - table: imagin\n", 1))
    found = {(p.column, p.message.split(";")[0]) for p in problems_of(text)}
    assert ("cnotrack_mapping", "the mapping schema version must be 1 (cnotrack_mapping: 1)") in found
    assert ("blocks[1].columns.pga", "a column takes exactly one of field, join, value, checked, checked_choice") in found


def test_tables_and_columns_must_be_the_exchange_formats() -> None:
    text = (MAPPING.replace("  - table: imaging\n", "  - table: imagin\n", 1)
            .replace("      route: {field: med_route}", "      via: {field: med_route}"))
    found = {(p.column, p.value): p.message for p in problems_of(text)}
    assert found[("blocks[5].table", "imagin")].startswith("no such table; the tables are patients, treatments")
    assert found[("blocks[4].columns.via", "via")].startswith("no such column in treatments; its columns are")


def test_a_required_column_must_be_mapped_and_the_patients_table_made() -> None:
    text = MAPPING.replace("      start_date: {field: med_start}\n", "")
    [problem] = problems_of(text)
    assert problem.column == "blocks[4].columns"
    assert problem.message.startswith("the required column start_date of treatments is not mapped")
    only_labs = "cnotrack_mapping: 1\nblocks:\n" + MAPPING.split("  - table: labs\n", 1)[1].split("  - table: labs")[0]
    only_labs = only_labs.replace("    form: visit", "  - table: labs\n    form: visit", 1)
    messages = [p.message for p in problems_of(only_labs)]
    assert any(m.startswith("no block makes the required table patients") for m in messages)


def test_yaml_that_does_not_parse_names_its_line() -> None:
    [problem] = problems_of("cnotrack_mapping: 1\nblocks:\n  - table: [patients\n")
    assert problem.row is not None and problem.message.startswith("not valid YAML")


def test_codes_keep_their_text_even_when_yaml_reads_numbers_or_booleans() -> None:
    text = MAPPING.replace('codes: {"1": active, "0": inactive}', "codes: {1: active, 0: inactive}")
    text = text.replace("      serious: {field: ae_serious}", "      serious: {field: ae_serious, codes: {1: yes, 0: no}}")
    mapping = load_mapping(text)
    assert mapping.blocks[6].columns["activity"].codes == {"1": "active", "0": "inactive"}
    assert mapping.blocks[7].columns["serious"].codes == {"1": "yes", "0": "no"}


def test_the_mapping_must_fit_the_projects_dictionary(project) -> None:
    text = (MAPPING.replace("      birth_date: {field: dob}", "      birth_date: {field: DOB}")
            .replace('codes: {"1": femur, "2": tibia, "3": clavicle}', 'codes: {"1": femur, "2": tibia, "4": clavicle}')
            .replace("    form: adverse_events", "    form: adverse_event")
            .replace("    events: [baseline_arm_1]", "    events: [baseline_arm_2]")
            .replace('{checked: {field: symptoms, code: "3"}}', '{checked: {field: symptoms, code: "5"}}')
            .replace("      pga_vas: {field: pga_vas}", "      pga_vas: {checked: {field: pga_vas, code: '1'}}")
            .replace("      term: {field: ae_term}", "      term: {field: symptoms}"))
    found = {(p.column, p.value): p for p in check_mapping(load_mapping(text, label="map.yaml"), project)}
    assert "did you mean dob?" in found[("blocks[0].columns.birth_date.field", "DOB")].message
    assert found[("blocks[6].columns.bone.codes", "4")].message == (
        "not a choice of les_bone; its choices are 1 (Femur), 2 (Tibia), 3 (Clavicle)")
    assert found[("blocks[7].form", "adverse_event")].message.startswith("no such form in")
    assert found[("blocks[0].events[0]", "baseline_arm_2")].message.startswith(
        "no such event; its events are baseline_arm_1, month_6_arm_1")
    assert found[("blocks[1].columns.fever.checked.code", "5")].message.startswith("not a choice of symptoms")
    assert "not a checkbox" in found[("blocks[1].columns.pga_vas.checked.field", "pga_vas")].message
    assert "a checkbox field has one column per choice" in found[("blocks[7].columns.term.field", "symptoms")].message
    assert all(p.table == "map.yaml" and p.row for p in found.values())


def test_each_checked_needs_a_checkbox_and_a_checked_choice_column(project) -> None:
    text = MAPPING + ("  - table: lesions\n    form: visit\n    each_checked: pga\n    columns:\n"
                      "      study_id: {join: [record_id, redcap_event_name]}\n      bone: {value: femur}\n")
    found = [p.message for p in problems_of(text)]
    assert any("map a column to it with {checked_choice: true}" in m for m in found)
    text = text.replace("      bone: {value: femur}", "      bone: {checked_choice: true}")
    problems = check_mapping(load_mapping(text), project)
    assert [p.column for p in problems] == ["blocks[8].each_checked"]
    assert "not a checkbox" in problems[0].message


@settings(max_examples=40, deadline=None)
@given(st.sets(st.sampled_from(["field", "join", "value", "checked", "checked_choice"])))
def test_a_column_source_is_exactly_one_kind(kinds) -> None:
    values = {"field": "sex", "join": ["a", "b"], "value": "CRP", "checked": {"field": "s", "code": "1"},
              "checked_choice": True}
    data = {k: values[k] for k in kinds}
    if len(kinds) == 1:
        assert Source.model_validate(data).kind == next(iter(kinds))
    else:
        with pytest.raises(ValueError, match="exactly one of"):
            Source.model_validate(data)


# --------------------------------------------------------------------------- drafts


def _review_notes_cover(text: str) -> None:
    """The draft parses as YAML; it loads, or each column it lacks is named by a review note."""
    assert isinstance(yaml.safe_load(text), dict)
    try:
        load_mapping(text)
    except DatasetError as exc:
        notes = "\n".join(line for line in text.splitlines() if "# review:" in line)
        for problem in exc.problems:
            missing = re.match(r"the required columns? (.+?) of (\w+) (is|are) not mapped", problem.message)
            assert missing, problem
            for column in missing.group(1).split(", "):
                assert f"the required column {column} of {missing.group(2)}" in notes, problem


def test_the_draft_for_this_cno_project_proposes_its_tables_and_codes(project) -> None:
    text = draft_mapping(project.fields)
    mapping = load_mapping(text)
    assert {b.table for b in mapping.blocks} == {"patients", "treatments", "assessments", "imaging", "lesions",
                                                "adverse_events", "labs"}
    columns = {b.table: b.columns for b in mapping.blocks}
    assert columns["patients"]["sex"].codes == {"1": "F", "2": "M"}
    assert columns["treatments"]["drug"].codes == {"1": "naproxen", "2": "pamidronate", "3": "anakinra",
                                                  "4": "adalimumab"}
    assert columns["imaging"]["modality"].codes == {"1": "wb_mri", "2": "bone_scintigraphy"}
    labs = {b.columns["test"].value: b for b in mapping.blocks if b.table == "labs"}
    assert set(labs) == {"ESR", "CRP"} and labs["CRP"].when == ("crp",)
    assert labs["CRP"].columns["unit"].value == "mg/L"
    assert check_mapping(mapping, project) == []
    assert "# review:" in text


def test_the_draft_for_the_redcapr_longitudinal_project_loads_or_says_what_to_fill() -> None:
    from cnotrack.interop.redcap.files import parse_dictionary

    path = reference_file("REDCapR-longitudinal", "dictionary.csv")
    text = draft_mapping(parse_dictionary(path.read_bytes(), path.name))
    _review_notes_cover(text)
    assert 'sex: {field: sex, codes: {"0": "F", "1": "M"}}' in text


def _lenient_fields(data: str) -> dict[str, Field]:
    """The RareLink dictionary's fields, read past its two defects (the first header cell ``1``
    and a label with unescaped quotes, which cnotrack's reader rightly reports): by position."""
    fields = {}
    for row in list(csv.reader(io.StringIO(data)))[1:]:
        choices = tuple(tuple(p.strip() for p in c.split(",", 1)) for c in row[5].split("|")
                        if "," in c) if row[3] in ("radio", "dropdown", "checkbox") else ()
        fields[row[0]] = Field(row[0], row[1], row[3], row[4], choices, row[7] or None)
    return fields


def test_the_draft_for_the_rarelink_dictionary_loads_or_says_what_to_fill() -> None:
    path = reference_file("rarelink-cdm", "rarelink_cdm_datadictionary_v2_0_5.csv")
    text = draft_mapping(_lenient_fields(path.read_text("utf-8-sig")))
    _review_notes_cover(text)
    patients = text.split("  - table: patients\n", 1)[1].split("  - table:", 1)[0]
    assert "form: rarelink_2_personal_information" in patients
    assert '"snomedct_248152002": "F"' in patients and '"snomedct_248153007": "M"' in patients


def test_the_complete_example_of_the_docs_fits_this_project(project) -> None:
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[2] / "docs" / "redcap.md").read_text("utf-8")
    example = docs.split("### A complete example", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    mapping = load_mapping(example)
    assert check_mapping(mapping, project) == []
    assert mapping.project == "CNO registry Bologna" and mapping.missing_codes == {"NASK": "Not asked"}
    assert [b.columns for b in mapping.blocks] == [b.columns for b in load_mapping(MAPPING).blocks]


def test_a_field_the_records_do_not_have_is_a_problem_of_the_mapping(project) -> None:
    from cnotrack.interop.redcap.project import RedcapProject

    trimmed = RedcapProject(project.name, project.fields, project.records.drop("dob", "symptoms___3"),
                            project.records_source, project.events, project.designations, project.repeating)
    found = {(p.column, p.value): p.message for p in check_mapping(load_mapping(MAPPING), trimmed)}
    assert found[("blocks[0].columns.birth_date.field", "dob")].startswith("the records have no column dob")
    assert found[("blocks[1].columns.fever.checked.field", "symptoms")].startswith(
        "the records have no column symptoms___3")


def test_the_keys_cnotrack_keeps_for_itself_are_unknown_keys_of_the_file() -> None:
    [problem] = problems_of(MAPPING + "label: mine\n")
    assert problem.value == "label" and problem.message.startswith("unknown key 'label'")
