"""A longitudinal CNO project as a centre would build it in REDCap, made from an exchange-format
dataset, with the dataset's twin: what of it such a project can hold.

Written without cnotrack's own REDCap code (it uses the ``csv`` module only), to the shape REDCap's
flat export gives (record id first, then ``redcap_event_name``, ``redcap_repeat_instrument``,
``redcap_repeat_instance``, ``redcap_data_access_group``, then the fields in dictionary order with each
form's ``<form>_complete``), so that reading it tests cnotrack's reader and mapping language against a
project they were not written for:

- arm 1, events ``enrolment_arm_1`` (demographics, treatment courses, scans and lesions, adverse
  events, each but demographics a repeating instrument) and ``visit_arm_1``, a *repeating event*
  holding the ``visit`` form (one instance per clinic visit);
- codes as a centre picks them: sex ``1, Female | 2, Male``; drugs numbered with brand names in the
  labels; PGA ``0..4``; the symptoms as one checkbox; bones numbered; CRP with a comma decimal
  (``number_comma_decimal``); the centre as the data access group;
- the missing-data code ``NA`` ("not assessed") for an ESR that was not taken at a visit where CRP
  was, which cnotrack keeps as the reason, never as a value.

The twin holds what the project carries: ESR and CRP only, at visits, without laboratory limits;
lesions without ``lesion_id``; everything else as the source dataset has it.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

__all__ = ["DRUGS", "BONES", "write_centre_project"]

DRUGS = {"naproxen": ("1", "Naproxen"), "ibuprofen": ("2", "Ibuprofen"), "indomethacin": ("3", "Indometacin"),
         "pamidronate": ("4", "Pamidronate (Aredia)"), "zoledronic acid": ("5", "Zoledronic acid (Zometa)"),
         "prednisone": ("6", "Prednisone"), "methylprednisolone": ("7", "Methylprednisolone"),
         "methotrexate": ("8", "Methotrexate"), "sulfasalazine": ("9", "Sulfasalazine"),
         "anakinra": ("10", "Anakinra (Kineret)"), "adalimumab": ("11", "Adalimumab (Humira)"),
         "etanercept": ("12", "Etanercept (Enbrel)"), "infliximab": ("13", "Infliximab (Remicade)"),
         "canakinumab": ("14", "Canakinumab (Ilaris)"), "azithromycin": ("15", "Azithromycin"),
         "celecoxib": ("16", "Celecoxib"), "etoricoxib": ("17", "Etoricoxib"), "prednisolone": ("18", "Prednisolone"),
         "tofacitinib": ("19", "Tofacitinib"), "colchicine": ("20", "Colchicine")}
PGA = ["none", "minimal", "mild", "moderate", "severe"]
SYMPTOMS = [("1", "Bone pain", "bone_pain"), ("2", "Local swelling", "local_swelling"),
            ("3", "Functional impairment", "functional_impairment"), ("4", "Fever", "fever")]
BONES: dict[str, str] = {}  # filled from the dataset's lesions: bone -> code


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def _choices(pairs) -> str:
    return " | ".join(f"{code}, {label}" for code, label in pairs)


def _dictionary(bones: dict[str, str]) -> list[list[str]]:
    header = ["Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
              "Choices, Calculations, OR Slider Labels", "Field Note", "Text Validation Type OR Show Slider Number",
              "Text Validation Min", "Text Validation Max", "Identifier?", "Branching Logic (Show field only if...)",
              "Required Field?", "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name",
              "Matrix Ranking?", "Field Annotation"]

    def field(name, form, kind, label, choices="", validation="", low="", high="", note=""):
        return [name, form, "", kind, label, choices, note, validation, low, high, "", "", "", "", "", "", "", ""]

    drugs = sorted(DRUGS.values(), key=lambda p: int(p[0]))
    return [header,
            field("record_id", "demographics", "text", "Record ID"),
            field("sex", "demographics", "radio", "Sex", _choices([("1", "Female"), ("2", "Male")])),
            field("dob", "demographics", "text", "Date of birth (YYYY-MM-DD, or YYYY-MM where only the month is known)"),
            field("onset", "demographics", "text", "Date of first symptoms", validation="date_ymd"),
            field("dx_date", "demographics", "text", "Date of diagnosis", validation="date_ymd"),
            field("med", "treatment", "dropdown", "Drug", _choices(drugs)),
            field("med_start", "treatment", "text", "Start", validation="date_ymd"),
            field("med_stop", "treatment", "text", "Stop (empty if ongoing)", validation="date_ymd"),
            field("med_dose", "treatment", "text", "Dose", validation="number"),
            field("med_unit", "treatment", "text", "Dose unit"),
            field("visit_date", "visit", "text", "Date of the visit", validation="date_ymd"),
            field("pga", "visit", "dropdown", "Physician global assessment",
                  _choices([(str(i), p.capitalize()) for i, p in enumerate(PGA)])),
            field("pga_vas", "visit", "text", "Physician global (0-10)", validation="number", low="0", high="10"),
            field("pain", "visit", "text", "Pain (0-10)", validation="number", low="0", high="10"),
            field("symptoms", "visit", "checkbox", "Symptoms", _choices([(c, l) for c, l, _ in SYMPTOMS])),
            field("esr", "visit", "text", "ESR (mm/h)", validation="integer"),
            field("crp", "visit", "text", "CRP (mg/L)", validation="number_comma_decimal"),
            field("scan_id", "scan", "text", "Scan identifier"),
            field("scan_date", "scan", "text", "Date of the scan", validation="date_ymd"),
            field("scan_type", "scan", "radio", "Modality",
                  _choices([("1", "Bone scintigraphy"), ("2", "Whole-body MRI"), ("3", "MRI"), ("4", "X-ray")])),
            field("les_scan", "lesion", "text", "Scan identifier of this lesion"),
            field("les_bone", "lesion", "dropdown", "Bone", _choices((code, bone.replace("_", " ").capitalize())
                                                                      for bone, code in bones.items())),
            field("les_side", "lesion", "radio", "Side", _choices([("1", "Left"), ("2", "Right")])),
            field("les_segment", "lesion", "text", "Segment"),
            field("les_grade", "lesion", "radio", "Uptake grade", _choices([("1", "1"), ("2", "2"), ("3", "3")])),
            field("les_painful", "lesion", "yesno", "Symptomatic at this site"),
            field("ae_term", "adverse_event", "text", "Adverse event"),
            field("ae_onset", "adverse_event", "text", "Onset", validation="date_ymd"),
            field("ae_grade", "adverse_event", "radio", "CTCAE grade",
                  _choices([(str(g), f"Grade {g}") for g in range(1, 6)])),
            field("ae_serious", "adverse_event", "yesno", "Serious"),
            ]


FORMS = ["demographics", "treatment", "visit", "scan", "lesion", "adverse_event"]


def write_centre_project(source: Path, out: Path) -> dict[str, Path]:
    """Write the REDCap project made from the exchange-format folder ``source`` into ``out``
    (``dictionary.csv``, ``records.csv``, ``events.csv``, ``designations.csv``, ``repeating.csv``) and
    its twin into ``out / "twin"``; the paths by name."""
    out.mkdir(parents=True, exist_ok=True)
    patients = _rows(source / "patients.csv")
    treatments = _rows(source / "treatments.csv")
    assessments = _rows(source / "assessments.csv")
    labs = _rows(source / "labs.csv")
    imaging = _rows(source / "imaging.csv")
    lesions = _rows(source / "lesions.csv")
    adverse = [r for r in _rows(source / "adverse_events.csv")]
    bones = {b: str(i + 1) for i, b in enumerate(sorted({r["bone"] for r in lesions}))}
    dictionary = _dictionary(bones)
    fields = [row[0] for row in dictionary[1:]]
    form_of = {row[0]: row[1] for row in dictionary[1:]}
    columns = ["record_id", "redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance",
               "redcap_data_access_group"]
    for form in FORMS:
        for name in fields:
            if form_of[name] != form or name == "record_id":
                continue
            if name == "symptoms":
                columns += [f"symptoms___{code}" for code, _, _ in SYMPTOMS]
            else:
                columns.append(name)
        columns.append(f"{form}_complete")
    records: list[dict[str, str]] = []
    twin_labs: list[dict[str, str]] = []
    lab_at = {}
    for lab in labs:
        lab_at[(lab["patient_id"], lab["date"], lab["test"])] = lab
    study_patient = {s["study_id"]: s["patient_id"] for s in imaging}

    def dag(center: str) -> str:
        return center.lower().replace(" ", "_")

    for p in patients:
        pid, group = p["patient_id"], dag(p["center"])
        base = {"record_id": pid, "redcap_event_name": "enrolment_arm_1", "redcap_data_access_group": group}
        dob = p["birth_date"]  # a text field: a birth month alone (YYYY-MM) is kept as the centre wrote it
        records.append(base | {"sex": {"F": "1", "M": "2"}[p["sex"]], "dob": dob, "onset": p["onset_date"],
                               "dx_date": p["diagnosis_date"], "demographics_complete": "2"})
        for i, t in enumerate([t for t in treatments if t["patient_id"] == pid], start=1):
            records.append(base | {"redcap_repeat_instrument": "treatment", "redcap_repeat_instance": str(i),
                                   "med": DRUGS[t["drug"]][0], "med_start": t["start_date"], "med_stop": t["stop_date"],
                                   "med_dose": t["dose"], "med_unit": t["dose_unit"], "treatment_complete": "2"})
        for i, s in enumerate([s for s in imaging if s["patient_id"] == pid], start=1):
            records.append(base | {"redcap_repeat_instrument": "scan", "redcap_repeat_instance": str(i),
                                   "scan_id": s["study_id"], "scan_date": s["date"],
                                   "scan_type": {"bone_scintigraphy": "1", "wb_mri": "2", "mri": "3", "xray": "4"}[s["modality"]],
                                   "scan_complete": "1"})
        mine = [le for le in lesions if study_patient[le["study_id"]] == pid]
        for i, le in enumerate(mine, start=1):
            records.append(base | {"redcap_repeat_instrument": "lesion", "redcap_repeat_instance": str(i),
                                   "les_scan": le["study_id"], "les_bone": bones[le["bone"]],
                                   "les_side": {"left": "1", "right": "2", "": ""}[le["side"]],
                                   "les_segment": le["segment"], "les_grade": le["grade"],
                                   "les_painful": {"yes": "1", "no": "0", "": ""}[le["symptomatic"]],
                                   "lesion_complete": "2"})
        for i, a in enumerate([a for a in adverse if a["patient_id"] == pid], start=1):
            records.append(base | {"redcap_repeat_instrument": "adverse_event", "redcap_repeat_instance": str(i),
                                   "ae_term": a["term"], "ae_onset": a["onset_date"], "ae_grade": a["grade"],
                                   "ae_serious": {"yes": "1", "no": "0", "": ""}[a["serious"]],
                                   "adverse_event_complete": "2"})
        for i, v in enumerate([v for v in assessments if v["patient_id"] == pid], start=1):
            esr, crp = lab_at.get((pid, v["date"], "ESR")), lab_at.get((pid, v["date"], "CRP"))
            row = {"record_id": pid, "redcap_event_name": "visit_arm_1", "redcap_repeat_instance": str(i),
                   "redcap_data_access_group": group, "visit_date": v["date"],
                   "pga": str(PGA.index(v["pga"])) if v["pga"] else "", "pga_vas": v["pga_vas"], "pain": v["pain_vas"],
                   "visit_complete": "2"}
            for code, _, column in SYMPTOMS:
                row[f"symptoms___{code}"] = "1" if v[column] == "yes" else "0"
            if crp is not None and crp["unit"] == "mg/L" and not crp["value"].startswith(("<", ">")):
                row["crp"] = crp["value"].replace(".", ",")
                twin_labs.append({"patient_id": pid, "date": v["date"], "test": "CRP", "value": crp["value"],
                                  "unit": "mg/L", "ref_high": "", "ref_low": ""})
                if esr is None:
                    row["esr"] = "NA"
            if esr is not None and esr["value"].isdigit():
                row["esr"] = esr["value"]
                twin_labs.append({"patient_id": pid, "date": v["date"], "test": "ESR", "value": esr["value"],
                                  "unit": "mm/h", "ref_high": "", "ref_low": ""})
            records.append(row)
    body = [columns] + [[r.get(c, "") for c in columns] for r in records]
    (out / "dictionary.csv").write_text(_csv(dictionary), encoding="utf-8")
    (out / "records.csv").write_text(_csv(body), encoding="utf-8")
    (out / "events.csv").write_text(_csv([["event_name", "arm_num", "unique_event_name"],
                                          ["Enrolment", "1", "enrolment_arm_1"], ["Visit", "1", "visit_arm_1"]]))
    (out / "designations.csv").write_text(_csv([["arm_num", "unique_event_name", "form"]]
                                               + [["1", "enrolment_arm_1", f] for f in FORMS if f != "visit"]
                                               + [["1", "visit_arm_1", "visit"]]))
    (out / "repeating.csv").write_text(_csv([["event_name", "form_name", "custom_form_label"],
                                             ["visit_arm_1", "", ""]]
                                            + [["enrolment_arm_1", f, ""] for f in
                                               ("treatment", "scan", "lesion", "adverse_event")]))
    twin = out / "twin"
    twin.mkdir(exist_ok=True)
    _write(twin / "patients.csv", ["patient_id", "sex", "birth_date", "onset_date", "diagnosis_date", "center"],
           [p | {"center": dag(p["center"])} for p in patients])
    _write(twin / "treatments.csv", ["patient_id", "drug", "start_date", "stop_date", "dose", "dose_unit"], treatments)
    _write(twin / "assessments.csv", ["patient_id", "date", "pga", "pga_vas", "pain_vas", "bone_pain",
                                      "local_swelling", "functional_impairment", "fever"], assessments)
    _write(twin / "labs.csv", ["patient_id", "date", "test", "value", "unit", "ref_high", "ref_low"], twin_labs)
    _write(twin / "imaging.csv", ["patient_id", "study_id", "date", "modality"], imaging)
    _write(twin / "lesions.csv", ["study_id", "bone", "side", "segment", "grade", "symptomatic"], lesions)
    _write(twin / "adverse_events.csv", ["patient_id", "onset_date", "term", "grade", "serious"], adverse)
    return {name: out / f"{name}.csv" for name in ("dictionary", "records", "events", "designations", "repeating")} | {
        "twin": twin}


def _write(path: Path, columns: list[str], rows: list[dict[str, str]]) -> None:
    def cell(row, c):
        value = row.get(c, "")
        return "no" if c in ("bone_pain", "local_swelling", "functional_impairment", "fever") and value == "" else value
    path.write_text(_csv([columns] + [[cell(r, c) for c in columns] for r in rows]), encoding="utf-8")
