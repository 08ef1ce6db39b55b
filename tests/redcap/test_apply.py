"""Applying a mapping to a REDCap project: a longitudinal CNO project (two events, repeating
instruments, a checkbox, comma decimals, a datetime, data access groups) that cnotrack has not
seen, mapped from the docs alone, gives exactly the dataset of its exchange-format twin, and
the same endpoints.

``write_cno_project`` writes the project as REDCap exports it (data dictionary, flat records,
events, form-event designations, repeating instruments) and ``write_twin`` the same data as
cnotrack's CSV folder, both by hand; the other test modules of this folder import them.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import polars as pl
import pytest

from cnotrack.engine import evaluate
from cnotrack.engine.fingerprint import dataset_fingerprint
from cnotrack.errors import DatasetError
from cnotrack.exchange import load_dataset
from cnotrack.interop.redcap.apply import apply_mapping
from cnotrack.interop.redcap.load import load_redcap
from cnotrack.interop.redcap.mapping import load_mapping
from cnotrack.interop.redcap.project import Event, Field, RedcapProject
from cnotrack.protocols import load_protocol

DICTIONARY_HEADER = [
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note", "Text Validation Type OR Show Slider Number",
    "Text Validation Min", "Text Validation Max", "Identifier?", "Branching Logic (Show field only if...)",
    "Required Field?", "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name",
    "Matrix Ranking?", "Field Annotation",
]

#: name, form, type, label, choices, validation
FIELDS = [
    ("record_id", "demographics", "text", "Record ID", "", ""),
    ("dob", "demographics", "text", "Date of birth", "", "date_ymd"),
    ("sex", "demographics", "radio", "Sex", "1, Female | 2, Male", ""),
    ("onset_date", "demographics", "text", "Date of first symptoms", "", "date_ymd"),
    ("diagnosis_date", "demographics", "text", "Date of diagnosis", "", "date_ymd"),
    ("visit_date", "visit", "text", "Visit date", "", "date_ymd"),
    ("pga", "visit", "dropdown", "Physician global assessment", "0, none | 1, minimal | 2, mild | 3, moderate | 4, severe", ""),
    ("pga_vas", "visit", "text", "Physician global VAS (0-10)", "", "number"),
    ("esr", "visit", "text", "ESR (mm/h)", "", "integer"),
    ("crp", "visit", "text", "CRP (mg/L)", "", "number_comma_decimal"),
    ("symptoms", "visit", "checkbox", "Symptoms", "1, Bone pain | 2, Local swelling | 3, Fever", ""),
    ("med_drug", "medications", "dropdown", "Drug", "1, Naproxen | 2, Pamidronate | 3, Anakinra | 4, Adalimumab", ""),
    ("med_start", "medications", "text", "Start", "", "date_ymd"),
    ("med_stop", "medications", "text", "Stop", "", "date_ymd"),
    ("med_route", "medications", "radio", "Route", "1, oral | 2, iv | 3, sc", ""),
    ("img_date", "imaging", "text", "Date and time of the study", "", "datetime_ymd"),
    ("img_modality", "imaging", "radio", "Modality", "1, Whole body MRI | 2, Bone scintigraphy", ""),
    ("les_bone", "lesion", "dropdown", "Bone", "1, Femur | 2, Tibia | 3, Clavicle", ""),
    ("les_side", "lesion", "radio", "Side", "1, left | 2, right", ""),
    ("les_active", "lesion", "yesno", "Active on this study?", "", ""),
    ("ae_date", "adverse_events", "text", "Onset", "", "date_ymd"),
    ("ae_term", "adverse_events", "text", "Event", "", ""),
    ("ae_serious", "adverse_events", "yesno", "Serious?", "", ""),
]
FORMS = ["demographics", "visit", "medications", "imaging", "lesion", "adverse_events"]
EVENTS = [("Baseline", "baseline_arm_1"), ("Month 6", "month_6_arm_1")]
DESIGNATIONS = {"baseline_arm_1": ["demographics", "visit", "medications", "imaging", "lesion"],
                "month_6_arm_1": ["visit", "medications", "imaging", "lesion", "adverse_events"]}
REPEATING = [("baseline_arm_1", "medications"), ("month_6_arm_1", "medications"), ("baseline_arm_1", "lesion"),
             ("month_6_arm_1", "lesion"), ("month_6_arm_1", "adverse_events")]

B, M6 = "baseline_arm_1", "month_6_arm_1"
NO_SYMPTOMS = {"symptoms___1": "0", "symptoms___2": "0", "symptoms___3": "0"}
#: the records, as (event, repeat instrument, instance, DAG, values); every other cell is ""
RECORDS = [
    ("101", B, "", "", "bologna", {"dob": "2008-03-14", "sex": "1", "onset_date": "2018-09-01",
                                   "diagnosis_date": "2019-01-15", "demographics_complete": "2",
                                   "visit_date": "2019-01-15", "pga": "3", "pga_vas": "6", "esr": "42",
                                   "crp": "12,5", "symptoms___1": "1", "symptoms___2": "1", "symptoms___3": "0",
                                   "visit_complete": "2", "img_date": "2019-01-16 09:30",
                                   "img_modality": "2", "imaging_complete": "2"}),
    ("101", B, "medications", "1", "bologna", {"med_drug": "1", "med_start": "2018-09-10",
                                               "med_stop": "2018-12-01", "med_route": "1",
                                               "medications_complete": "2"}),
    ("101", B, "medications", "2", "bologna", {"med_drug": "2", "med_start": "2018-12-05",
                                               "med_stop": "2019-01-10", "med_route": "2",
                                               "medications_complete": "2"}),
    ("101", B, "medications", "3", "bologna", {"med_drug": "3", "med_start": "2019-01-15", "med_route": "3",
                                               "medications_complete": "2"}),
    ("101", B, "lesion", "1", "bologna", {"les_bone": "1", "les_side": "1", "les_active": "1", "lesion_complete": "2"}),
    ("101", B, "lesion", "2", "bologna", {"les_bone": "2", "les_side": "2", "les_active": "1", "lesion_complete": "2"}),
    ("101", M6, "", "", "bologna", {"visit_date": "2019-07-16", "pga": "1", "pga_vas": "1.5", "esr": "12",
                                    "crp": "2,1", **NO_SYMPTOMS, "visit_complete": "2",
                                    "img_date": "2019-07-17 10:00", "img_modality": "2", "imaging_complete": "2"}),
    ("101", M6, "lesion", "1", "bologna", {"les_bone": "1", "les_side": "1", "les_active": "0", "lesion_complete": "2"}),
    ("101", M6, "adverse_events", "1", "bologna", {"ae_date": "2019-05-02", "ae_term": "infusion reaction",
                                                   "ae_serious": "0", "adverse_events_complete": "2"}),
    ("102", B, "", "", "genoa", {"dob": "2010-11-02", "sex": "2", "onset_date": "2019-02-10",
                                 "diagnosis_date": "2019-06-01", "demographics_complete": "2",
                                 "visit_date": "2019-06-01", "pga": "2", "pga_vas": "4", "esr": "30",
                                 "symptoms___1": "1", "symptoms___2": "0", "symptoms___3": "1",
                                 "visit_complete": "2", "img_date": "2019-06-03 08:15", "img_modality": "1",
                                 "imaging_complete": "2"}),
    ("102", B, "medications", "1", "genoa", {"med_drug": "1", "med_start": "2019-02-11",
                                             "med_stop": "2019-03-01", "med_route": "1",
                                             "medications_complete": "1"}),
    ("102", B, "medications", "2", "genoa", {"med_drug": "2", "med_start": "2019-03-05",
                                             "med_stop": "2019-05-20", "med_route": "2",
                                             "medications_complete": "2"}),
    ("102", B, "medications", "3", "genoa", {"med_drug": "3", "med_start": "2019-06-01", "med_route": "3",
                                             "medications_complete": "2"}),
    ("102", B, "lesion", "1", "genoa", {"les_bone": "3", "les_side": "2", "les_active": "1", "lesion_complete": "2"}),
    ("102", M6, "", "", "genoa", {"visit_date": "2019-12-05", "pga": "0", "pga_vas": "0", "crp": "0,8",
                                  **NO_SYMPTOMS, "visit_complete": "2"}),
    ("103", B, "", "", "genoa", {"dob": "2009-05-20", "sex": "1", "diagnosis_date": "2020-02-11",
                                 "demographics_complete": "2", "visit_date": "2020-02-11", "pga": "4",
                                 "esr": "55", "crp": "40", "symptoms___1": "1", "symptoms___2": "1",
                                 "symptoms___3": "1", "visit_complete": "2"}),
    ("103", B, "medications", "1", "genoa", {"med_drug": "4", "med_start": "2020-02-20", "med_route": "3",
                                             "medications_complete": "2"}),
]

#: the mapping, written from docs/redcap.md alone
MAPPING = """\
cnotrack_mapping: 1
project: CNO registry (test)
blocks:
  - table: patients
    form: demographics
    events: [baseline_arm_1]
    columns:
      patient_id: {field: record_id}
      sex: {field: sex}
      birth_date: {field: dob}
      onset_date: {field: onset_date}
      diagnosis_date: {field: diagnosis_date}
      center: {field: redcap_data_access_group}
  - table: assessments
    form: visit
    when: [visit_date]
    columns:
      patient_id: {field: record_id}
      date: {field: visit_date}
      pga: {field: pga}
      pga_vas: {field: pga_vas}
      bone_pain: {checked: {field: symptoms, code: "1"}}
      local_swelling: {checked: {field: symptoms, code: "2"}}
      fever: {checked: {field: symptoms, code: "3"}}
  - table: labs
    form: visit
    when: [esr]
    columns:
      patient_id: {field: record_id}
      date: {field: visit_date}
      test: {value: ESR}
      value: {field: esr}
      unit: {value: mm/h}
  - table: labs
    form: visit
    when: [crp]
    columns:
      patient_id: {field: record_id}
      date: {field: visit_date}
      test: {value: CRP}
      value: {field: crp}
      unit: {value: mg/L}
  - table: treatments
    form: medications
    columns:
      patient_id: {field: record_id}
      drug: {field: med_drug}
      start_date: {field: med_start}
      stop_date: {field: med_stop}
      route: {field: med_route}
  - table: imaging
    form: imaging
    columns:
      patient_id: {field: record_id}
      study_id: {join: [record_id, redcap_event_name]}
      date: {field: img_date}
      modality: {field: img_modality}
  - table: lesions
    form: lesion
    columns:
      study_id: {join: [record_id, redcap_event_name]}
      bone: {field: les_bone, codes: {"1": femur, "2": tibia, "3": clavicle}}
      side: {field: les_side}
      activity: {field: les_active, codes: {"1": active, "0": inactive}}
  - table: adverse_events
    form: adverse_events
    columns:
      patient_id: {field: record_id}
      onset_date: {field: ae_date}
      term: {field: ae_term}
      serious: {field: ae_serious}
"""

#: the same data as cnotrack's CSV folder, by hand
TWIN = {
    "patients.csv": """\
patient_id,sex,birth_date,onset_date,diagnosis_date,center
101,F,2008-03-14,2018-09-01,2019-01-15,bologna
102,M,2010-11-02,2019-02-10,2019-06-01,genoa
103,F,2009-05-20,,2020-02-11,genoa
""",
    "assessments.csv": """\
patient_id,date,pga,pga_vas,bone_pain,local_swelling,fever
101,2019-01-15,moderate,6,yes,yes,no
101,2019-07-16,minimal,1.5,no,no,no
102,2019-06-01,mild,4,yes,no,yes
102,2019-12-05,none,0,no,no,no
103,2020-02-11,severe,,yes,yes,yes
""",
    "labs.csv": """\
patient_id,date,test,value,unit
101,2019-01-15,ESR,42,mm/h
101,2019-07-16,ESR,12,mm/h
102,2019-06-01,ESR,30,mm/h
103,2020-02-11,ESR,55,mm/h
101,2019-01-15,CRP,12.5,mg/L
101,2019-07-16,CRP,2.1,mg/L
102,2019-12-05,CRP,0.8,mg/L
103,2020-02-11,CRP,40,mg/L
""",
    "treatments.csv": """\
patient_id,drug,start_date,stop_date,route
101,naproxen,2018-09-10,2018-12-01,oral
101,pamidronate,2018-12-05,2019-01-10,iv
101,anakinra,2019-01-15,,sc
102,naproxen,2019-02-11,2019-03-01,oral
102,pamidronate,2019-03-05,2019-05-20,iv
102,anakinra,2019-06-01,,sc
103,adalimumab,2020-02-20,,sc
""",
    "imaging.csv": """\
patient_id,study_id,date,modality
101,101-baseline_arm_1,2019-01-16,bone_scintigraphy
101,101-month_6_arm_1,2019-07-17,bone_scintigraphy
102,102-baseline_arm_1,2019-06-03,wb_mri
""",
    "lesions.csv": """\
study_id,bone,side,activity
101-baseline_arm_1,femur,left,active
101-baseline_arm_1,tibia,right,active
101-month_6_arm_1,femur,left,inactive
102-baseline_arm_1,clavicle,right,active
""",
    "adverse_events.csv": """\
patient_id,onset_date,term,serious
101,2019-05-02,infusion reaction,no
""",
}


def _csv(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


def records_header(fields=FIELDS) -> list[str]:
    header = ["record_id", "redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance",
              "redcap_data_access_group"]
    for form in FORMS:
        for name, field_form, kind, _label, choices, _v in fields:
            if field_form != form or name == "record_id":
                continue
            if kind == "checkbox":
                header += [f"{name}___{c.split(',')[0].strip()}" for c in choices.split("|")]
            else:
                header.append(name)
        header.append(f"{form}_complete")
    return header


def write_cno_project(folder: Path, records=RECORDS, mapping: str = MAPPING) -> dict[str, Path]:
    """The project's files as REDCap exports them, and the mapping; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {name: folder / f"{name}.csv" for name in ("dictionary", "records", "events", "designations", "repeating")}
    paths["dictionary"].write_text(_csv([DICTIONARY_HEADER] + [
        [n, f, "", t, label, ch, "", v] + [""] * 10 for n, f, t, label, ch, v in FIELDS]), "utf-8")
    header = records_header()
    rows = [[rid, event, instrument, instance, dag] + [values.get(c, "") for c in header[5:]]
            for rid, event, instrument, instance, dag, values in records]
    paths["records"].write_text(_csv([header] + rows), "utf-8")
    paths["events"].write_text(_csv([["event_name", "arm_num", "unique_event_name", "custom_event_label"]]
                                    + [[label, "1", name, ""] for label, name in EVENTS]), "utf-8")
    paths["designations"].write_text(_csv([["arm_num", "unique_event_name", "form"]] + [
        ["1", event, form] for event, forms in DESIGNATIONS.items() for form in forms]), "utf-8")
    paths["repeating"].write_text(_csv([["event_name", "form_name", "custom_form_label"]]
                                       + [[e, f, ""] for e, f in REPEATING]), "utf-8")
    paths["mapping"] = folder / "mapping.yaml"
    paths["mapping"].write_text(mapping, "utf-8")
    return paths


def write_twin(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in TWIN.items():
        (folder / name).write_text(text, "utf-8")
    return folder


def _choices(text: str) -> tuple[tuple[str, str], ...]:
    return tuple(tuple(part.strip() for part in c.split(",", 1)) for c in text.split("|")) if text else ()


def read_cno_project(paths: dict[str, Path], missing_codes: str | None = None) -> RedcapProject:
    """The project read from its files: with the parser (``files.read_project``) once it is in
    the package, else built here the way the shared interface says it reads them."""
    try:
        from cnotrack.interop.redcap.files import read_project
    except ImportError:
        read_project = None
    if read_project is not None:
        return read_project(paths["dictionary"], paths["records"], events=paths["events"],
                            designations=paths["designations"], repeating=paths["repeating"],
                            missing_codes=missing_codes)
    fields = {n: Field(n, f, t, label, _choices(ch), v or None, row=i + 2)
              for i, (n, f, t, label, ch, v) in enumerate(FIELDS)}
    records = pl.read_csv(paths["records"], infer_schema=False)
    records = records.with_columns(pl.int_range(2, records.height + 2, dtype=pl.Int64).alias("_row"))
    codes = {}
    for part in (missing_codes or "").split("|"):
        if part.strip():
            code, label = part.split(",", 1)
            codes[code.strip()] = label.strip()
    return RedcapProject(
        name="records.csv", fields=fields, records=records, records_source=paths["records"].name,
        events=[Event(name, label) for label, name in EVENTS], designations={k: list(v) for k, v in DESIGNATIONS.items()},
        repeating={(e, f) for e, f in REPEATING}, missing_codes=codes, sha256={paths["records"].name: "0" * 64})


@pytest.fixture
def cno(tmp_path):
    paths = write_cno_project(tmp_path / "redcap")
    return read_cno_project(paths), load_mapping(paths["mapping"]), paths


def _comparable(frame: pl.DataFrame) -> pl.DataFrame:
    # where a row came from is not content; an _extra that holds nothing is no content either
    data = frame.drop([c for c in ("_row", "_extra") if c in frame.columns
                       and (c == "_row" or frame[c].null_count() == frame.height)])
    return data.sort(data.columns, nulls_last=True)


def test_the_mapped_project_equals_its_exchange_format_twin(cno, tmp_path) -> None:
    project, mapping, _ = cno
    mapped = load_redcap(project, mapping)
    twin = load_dataset(write_twin(tmp_path / "twin"))
    for name in twin.tables:
        assert _comparable(mapped[name]).equals(_comparable(twin[name])), name
    assert dataset_fingerprint(mapped) == dataset_fingerprint(twin)


def test_the_mapped_project_evaluates_to_the_twins_endpoints(cno, tmp_path) -> None:
    project, mapping, _ = cno
    protocol = load_protocol("pardeo2017")
    mapped = evaluate(load_redcap(project, mapping), protocol, statistics=False).as_json(detail=False)
    twin = evaluate(load_dataset(write_twin(tmp_path / "twin")), protocol, statistics=False).as_json(detail=False)
    assert json.dumps(mapped["endpoints"], sort_keys=True) == json.dumps(twin["endpoints"], sort_keys=True)
    assert mapped["endpoints"]["cohort.n"] == 2
    assert mapped["endpoints"]["month6.pga_none_or_minimal"]["n"] == 2


def test_each_row_keeps_the_records_row_it_came_from(cno) -> None:
    project, mapping, _ = cno
    dataset = load_redcap(project, mapping)
    # records row 2 is record 101's baseline; rows 6 and 7 its two baseline lesions
    assert dataset["patients"].filter(pl.col("patient_id") == "101")["_row"].to_list() == [2]
    assert sorted(dataset["lesions"].filter(pl.col("study_id") == "101-baseline_arm_1")["_row"].to_list()) == [6, 7]
    assert dataset.source == 'REDCap project "CNO registry (test)" (records.csv)'


def test_comma_decimals_and_datetimes_become_exchange_format_text(cno) -> None:
    project, mapping, _ = cno
    mapped = apply_mapping(project, mapping)
    labs = mapped.raw.tables["labs"]
    values = labs.frame[f"column {labs.header.index('value') + 1}"].to_list()
    assert "12.5" in values and "2.1" in values and "12,5" not in values
    imaging = mapped.raw.tables["imaging"]
    assert imaging.frame[f"column {imaging.header.index('date') + 1}"].to_list()[0] == "2019-01-16"


def test_each_checked_makes_one_row_per_ticked_choice(tmp_path) -> None:
    mapping = MAPPING + """\
  - table: lesions
    form: visit
    events: [baseline_arm_1]
    each_checked: symptoms
    when: [visit_date]
    columns:
      study_id: {join: [record_id, redcap_event_name]}
      bone: {checked_choice: true, codes: {"1": femur, "2": tibia, "3": fibula}}
"""
    paths = write_cno_project(tmp_path / "redcap", mapping=mapping)
    mapped = apply_mapping(read_cno_project(paths), load_mapping(paths["mapping"]))
    lesions = mapped.raw.tables["lesions"]
    frame = lesions.frame.rename(dict(zip(lesions.frame.columns, [*lesions.header, "_row"])))
    made = frame.slice(4).select("study_id", "bone").rows()
    # record 101 ticked 1 and 2, record 102 ticked 1 and 3, 103 (no imaging, but a visit) all three
    assert made == [("101-baseline_arm_1", "femur"), ("101-baseline_arm_1", "tibia"),
                    ("102-baseline_arm_1", "femur"), ("102-baseline_arm_1", "fibula"),
                    ("103-baseline_arm_1", "femur"), ("103-baseline_arm_1", "tibia"),
                    ("103-baseline_arm_1", "fibula")]


def test_a_field_of_another_form_comes_from_the_records_row_of_that_form(tmp_path) -> None:
    mapping = MAPPING.replace("      route: {field: med_route}\n",
                              "      route: {field: med_route}\n      dose_unit: {field: sex}\n")
    paths = write_cno_project(tmp_path / "redcap", mapping=mapping)
    dataset = load_redcap(read_cno_project(paths), load_mapping(paths["mapping"]))
    by_patient = dict(dataset["treatments"].select("patient_id", "dose_unit").unique().rows())
    # sex is on demographics (baseline only): the medication rows take it from the record
    assert by_patient == {"101": "Female", "102": "Male", "103": "Female"}


def test_fifty_thousand_records_rows_map_without_a_loop_over_rows(tmp_path) -> None:
    paths = write_cno_project(tmp_path / "redcap")
    project = read_cno_project(paths)
    base = project.records
    copies = []
    for i in range(3000):  # 17 rows each: 51,000 rows
        copies.append(base.with_columns((pl.col("record_id") + f"-{i}").alias("record_id")))
    records = pl.concat(copies).with_columns(pl.int_range(2, 51_002, dtype=pl.Int64).alias("_row"))
    big = RedcapProject(project.name, project.fields, records, project.records_source, project.events,
                        project.designations, project.repeating, project.missing_codes, project.sha256)
    dataset = load_redcap(big, load_mapping(paths["mapping"]))
    assert dataset["patients"].height == 3 * 3000
    assert dataset["lesions"].height == 4 * 3000


def test_problems_of_the_values_are_all_reported_in_redcap_terms(tmp_path) -> None:
    records = [list(r) for r in RECORDS]
    records[0][5] = {**records[0][5], "sex": "7", "dob": "2008-02-30"}      # row 2: unknown code, bad date
    records[9][5] = {**records[9][5], "visit_date": ""}                      # row 11: no visit date (labs need it)
    records[13][5] = {**records[13][5], "les_bone": "9"}                     # row 15: a code the mapping lacks
    paths = write_cno_project(tmp_path / "redcap", records=[tuple(r) for r in records])
    with pytest.raises(DatasetError) as info:
        load_redcap(read_cno_project(paths), load_mapping(paths["mapping"]))
    found = {(p.table, p.row, p.column, p.value) for p in info.value.problems}
    assert ("records.csv", 2, "sex", "7") in found
    assert ("records.csv", 2, "dob", "2008-02-30") in found
    assert ("records.csv", 15, "les_bone", "9") in found
    [empty] = [p for p in info.value.problems if p.row == 11 and p.column == "visit_date"]
    assert empty.message == "record 102, event baseline_arm_1: a value is required here (cnotrack column labs.date)"
    sex = next(p for p in info.value.problems if p.column == "sex")
    assert sex.message.startswith("record 101, event baseline_arm_1: ")
    assert "1 -> Female, 2 -> Male" in sex.message
    bone = next(p for p in info.value.problems if p.column == "les_bone")
    assert bone.message.startswith("record 102, event baseline_arm_1, instance 1: ")
    assert "blocks[6].columns.bone.codes" in bone.message


def test_a_missing_data_code_is_a_reason_kept_never_a_value(tmp_path) -> None:
    records = [list(r) for r in RECORDS]
    records[0][5] = {**records[0][5], "onset_date": "UNK", "pga_vas": "NASK"}
    paths = write_cno_project(tmp_path / "redcap", records=[tuple(r) for r in records])
    mapping = load_mapping(paths["mapping"].read_text().replace(
        "project: CNO registry (test)\n", "project: CNO registry (test)\nmissing_codes: {NASK: Not asked}\n"))
    dataset = load_redcap(read_cno_project(paths, missing_codes="UNK, Unknown | NA, Not applicable"), mapping)
    patient = dataset["patients"].filter(pl.col("patient_id") == "101").row(0, named=True)
    assert patient["onset_date"] is None
    assert json.loads(patient["_extra"]) == {"redcap_missing.onset_date": "UNK"}
    visit = dataset["assessments"].filter(pl.col("patient_id") == "101").sort("date").row(0, named=True)
    assert visit["pga_vas"] is None and json.loads(visit["_extra"]) == {"redcap_missing.pga_vas": "NASK"}
    assert dataset["patients"].filter(pl.col("patient_id") == "102")["_extra"].to_list() == [None]


# --------------------------------------------------------------------------- the real fixture projects


def test_the_redcapr_classic_project_maps_and_reports_repeated_dates_by_records_row() -> None:
    from cnotrack.interop.redcap.files import read_project

    from .conftest import reference_dir

    folder = reference_dir() / "REDCapR-repeating-instruments"
    project = read_project(folder / "dictionary.csv", folder / "data.csv")
    mapping = load_mapping("""\
cnotrack_mapping: 1
blocks:
  - table: patients
    form: demographics
    columns:
      patient_id: {field: record_id}
      sex: {field: sex}
      birth_date: {field: dob}
  - table: assessments
    form: bp
    columns:
      patient_id: {field: record_id}
      date: {field: date_bp}
""")
    mapped = apply_mapping(project, mapping)
    assert mapped.locator["assessments"]["__records_row"].to_list() == [3, 4, 5, 7]
    with pytest.raises(DatasetError) as info:
        load_redcap(project, mapping)
    # record 1 measured its blood pressure three times on 2019-10-14: one assessment per date
    found = sorted((p.row, p.column, p.message.split(";")[0]) for p in info.value.problems)
    assert found == [(4, "date_bp", "record 1, instance 2: duplicates row 3 of the records "
                                    "(patient_id=1, date=2019-10-14)"),
                     (5, "date_bp", "record 1, instance 3: duplicates row 3 of the records "
                                    "(patient_id=1, date=2019-10-14)")]


def test_the_redcapr_longitudinal_project_makes_one_patient_per_record() -> None:
    from cnotrack.interop.redcap.files import read_project

    from .conftest import reference_dir

    folder = reference_dir() / "REDCapR-longitudinal"
    project = read_project(folder / "dictionary.csv", folder / "data.csv", events=folder / "event.csv")
    dataset = load_redcap(project, load_mapping("""\
cnotrack_mapping: 1
blocks:
  - table: patients
    form: demographics
    columns:
      patient_id: {field: study_id}
      sex: {field: sex}
      birth_date: {field: dob}
"""))
    patients = dataset["patients"].sort("patient_id")
    assert patients.select("patient_id", "sex").rows() == [("100", "M"), ("220", "F"), ("304", "F")]
    assert patients["birth_date"].to_list() == ["1983-09-23", "2011-02-12", "2005-04-02"]
    assert dataset.source == "REDCap project (data.csv)"


def _shuffled_project(project: RedcapProject, order: list[int]) -> RedcapProject:
    records = project.records[order]
    return RedcapProject(project.name, project.fields, records, project.records_source, project.events,
                         project.designations, project.repeating, project.missing_codes, project.sha256)


def test_the_order_of_the_records_rows_does_not_change_the_dataset(tmp_path_factory) -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    paths = write_cno_project(tmp_path_factory.mktemp("order"))
    project, mapping = read_cno_project(paths), load_mapping(paths["mapping"])
    expected = dataset_fingerprint(load_redcap(project, mapping))

    @settings(max_examples=25, deadline=None)
    @given(st.permutations(list(range(project.records.height))))
    def same_for(order: list[int]) -> None:
        dataset = load_redcap(_shuffled_project(project, order), mapping)
        assert dataset_fingerprint(dataset) == expected
        # each row still names its own records row
        assert sorted(dataset["patients"]["_row"].to_list()) == [2, 11, 17]

    same_for()


def test_an_unknown_field_in_the_mapping_stops_before_any_record_is_read(cno) -> None:
    project, _, paths = cno
    mapping = load_mapping(MAPPING.replace("{field: med_stop}", "{field: med_end}"), label="mapping.yaml")
    with pytest.raises(DatasetError) as info:
        load_redcap(project, mapping)
    [problem] = info.value.problems
    assert (problem.table, problem.column, problem.value) == ("mapping.yaml", "blocks[4].columns.stop_date.field",
                                                              "med_end")
    assert problem.row == MAPPING.splitlines().index("      stop_date: {field: med_stop}") + 1
    assert problem.message.startswith("no such field in the data dictionary")
