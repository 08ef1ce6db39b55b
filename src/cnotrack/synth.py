"""Synthetic CNO registries: realistic, valid, deterministic datasets of any size.

``synthesize_registry(n_patients, seed)`` builds a typed :class:`~cnotrack.exchange.Dataset`
(the tables ``load_dataset`` returns) for a multicentre registry of children with chronic
nonbacterial osteomyelitis; ``write_registry`` writes it as a CSV folder with cnotrack's own
writer. The same ``n_patients`` and ``seed`` give the same bytes. Every table is drawn at once
with NumPy's ``Generator`` and assembled with Polars (no loop over patients or rows), so a
registry of 100,000 patients takes a few seconds. It is used by the benchmarks (``bench/``)
and by tests; it is not real patient data.

The registry it draws:

* **Patients**: every one marked ``synthetic`` = yes (so that every output made from the
  registry, however it travels, says it is synthetic); about 2 girls to 1 boy; onset at 9-10 years (sd 3, clipped to 2-17);
  diagnosis 0-24 months after onset (median about 6); eight centres ``Centre A`` to
  ``Centre H``, each with its own habits (CRP in mg/L or mg/dL, laboratory reference limits
  given or not, bone scintigraphy or whole-body MRI, lesion grades and lesion ids or not).
* **Treatment lines**: an NSAID first (naproxen, ibuprofen, indomethacin; some switch);
  then, for the patients who need more, a bisphosphonate (pamidronate, zoledronic acid; about
  60% of all patients) and/or a glucocorticoid (about 25%: prednisone orally, methylprednisolone
  iv pulses, a few topical), methotrexate or sulfasalazine (about 20%), and a biologic
  (anakinra mostly; adalimumab, etanercept, infliximab, canakinumab), with switches after
  inefficacy and occasional second anakinra courses. Courses have start and stop dates (a
  course still running at the last visit is ongoing), doses, routes and stop reasons.
  The registry is enriched for refractory disease: more than half of the patients reach a
  biologic (far more than the third or so of an unselected cohort), so that about a third are
  eligible for the ``pardeo2017`` protocol and its every step has work to do.
* **Visits** every 3-6 months from diagnosis for 1-6 years (longer after a late biologic),
  and on the day a treatment line starts: PGA (5 levels), physician and patient global VAS,
  pain VAS, CHAQ-DI and the yes/no findings, from a latent disease activity that falls once an
  effective line starts, with flares. About 5-15% of each optional cell is empty.
* **Labs** at most visits: ESR and CRP (CRP below the laboratory's detection limit written
  censored, such as ``<0.5``), sometimes WBC and platelets.
* **Imaging** about yearly, and around the start of anakinra and 6 months later: bone
  scintigraphy at most centres, whole-body MRI at some, a few targeted MRIs and radiographs.
  Each patient has lesions that exist from onset or appear later and resolve after an
  effective treatment (some persist); a study shows each lesion present at its date (with a
  modality's sensitivity), recently healed ones sometimes as ``inactive``, with a grade at
  centres that grade and a ``lesion_id`` at centres that track lesions. Some rows omit the
  segment, so that every lesion-matching rule is used.
* **Adverse events** for courses stopped for one, and a few more (injection site reactions,
  acute-phase reactions to bisphosphonates, infections, ...).

Lesion sites: the share of patients with at least one lesion in each site is approximate,
from published CNO cohort descriptions: tibia about 30%, femur 25%, pelvis (ilium, ischium,
pubis) 20%, vertebrae 15%, clavicle 10%, and less often calcaneus, fibula, metatarsals,
sacrum, humerus, radius and ulna, mandible, sternum, ribs and talus (``SITE_FREQUENCIES``).
Paired lesions are often symmetric; segments are those the site vocabulary allows for the
bone (metaphyses above all for long bones, the body for vertebrae, the medial end for the
clavicle).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from .exchange.dataset import Dataset, empty_table
from .exchange.schema import exchange_format
from .exchange.writer import write_csv_folder

__all__ = ["SITE_FREQUENCIES", "synthesize_registry", "write_registry"]

# Share of patients with at least one lesion in each site group (approximate, from published
# CNO cohort descriptions), with the bones of the group and their relative weights.
SITE_FREQUENCIES: dict[str, tuple[float, dict[str, float]]] = {
    "tibia": (0.30, {"tibia": 1.0}),
    "femur": (0.25, {"femur": 1.0}),
    "pelvis": (0.20, {"ilium": 0.5, "ischium": 0.3, "pubis": 0.2}),
    "vertebrae": (0.15, {f"T{i}": 1.0 for i in range(4, 13)} | {f"L{i}": 1.0 for i in range(1, 6)}),
    "clavicle": (0.10, {"clavicle": 1.0}),
    "calcaneus": (0.08, {"calcaneus": 1.0}),
    "fibula": (0.08, {"fibula": 1.0}),
    "metatarsals": (0.07, {f"metatarsal_{i}": w for i, w in zip(range(1, 6), (0.35, 0.25, 0.2, 0.1, 0.1))}),
    "sacrum": (0.06, {"sacrum": 1.0}),
    "humerus": (0.05, {"humerus": 1.0}),
    "forearm": (0.04, {"radius": 0.6, "ulna": 0.4}),
    "mandible": (0.04, {"mandible": 1.0}),
    "talus": (0.03, {"talus": 1.0}),
    "sternum": (0.03, {"sternum": 1.0}),
    "ribs": (0.02, {f"rib_{i}": 1.0 for i in range(1, 13)}),
}
_LONG = ("femur", "tibia", "fibula", "humerus", "radius", "ulna") + tuple(f"metatarsal_{i}" for i in range(1, 6))
_LONG_SEGMENTS = {"distal_metaphysis": 0.38, "proximal_metaphysis": 0.27, "diaphysis": 0.1,
                  "distal_epiphysis": 0.05, "proximal_epiphysis": 0.03, None: 0.17}
_VERTEBRA_SEGMENTS = {"body": 0.85, "posterior_elements": 0.05, None: 0.10}
_CLAVICLE_SEGMENTS = {"medial": 0.7, "shaft": 0.2, "lateral": 0.05, None: 0.05}
_MIDLINE = {"sacrum", "sternum"} | {f"T{i}" for i in range(1, 13)} | {f"L{i}" for i in range(1, 6)}


@dataclass(frozen=True)
class _Centre:
    name: str
    weight: float
    crp_unit: str            # mg/L or mg/dL
    crp_detection: float     # lower values are written censored, "<0.5", in crp_unit
    imaging: str             # the usual whole-body modality
    ref_high: bool           # the laboratory prints its reference limits
    esr_limit: float
    tracks_lesions: bool     # writes lesion_id
    grades: bool             # writes a lesion grade
    writes_active: bool      # writes activity=active rather than leaving it empty


_CENTRES = (
    _Centre("Centre A", 0.22, "mg/dL", 0.5, "bone_scintigraphy", True, 20, True, True, False),
    _Centre("Centre B", 0.18, "mg/L", 0.5, "bone_scintigraphy", False, 20, False, True, False),
    _Centre("Centre C", 0.15, "mg/L", 0.3, "bone_scintigraphy", True, 15, False, True, True),
    _Centre("Centre D", 0.12, "mg/dL", 0.03, "wb_mri", True, 20, False, False, False),
    _Centre("Centre E", 0.10, "mg/L", 0.2, "bone_scintigraphy", False, 20, True, False, False),
    _Centre("Centre F", 0.09, "mg/L", 0.5, "bone_scintigraphy", True, 25, False, True, True),
    _Centre("Centre G", 0.08, "mg/dL", 0.05, "wb_mri", False, 20, False, False, False),
    _Centre("Centre H", 0.06, "mg/L", 0.2, "bone_scintigraphy", False, 20, False, False, False),
)

_PGA = ["none", "minimal", "mild", "moderate", "severe"]
_PGA_CUTS = [0.08, 0.2, 0.4, 0.65]
_NSAIDS = ["naproxen", "ibuprofen", "indomethacin"]
_OTHER_BIOLOGICS = ["adalimumab", "etanercept", "infliximab", "canakinumab"]
_REASONS = ["inefficacy", "adverse_event", "remission", "other"]
_EPOCH = dt.date(1970, 1, 1)
_NEVER = 10**7  # a day far beyond any follow-up


def synthesize_registry(n_patients: int, seed: int) -> Dataset:
    """A synthetic CNO registry of ``n_patients`` patients, the same for the same ``seed``.

    The result is a valid typed dataset (what ``load_dataset`` returns for its CSV export):
    patients, treatments, assessments, labs, imaging, lesions and adverse_events. See the
    module docstring for what is drawn and how.
    """
    if n_patients < 1:
        raise ValueError(f"n_patients must be at least 1, not {n_patients}")
    rng = np.random.default_rng(seed)
    c = _draw_course_of_disease(rng, n_patients)
    tables = {
        "patients": _patients(rng, c),
        "treatments": _treatments(rng, c),
    }
    tables["assessments"], visits = _assessments(rng, c)
    tables["labs"] = _labs(rng, c, visits)
    tables["imaging"], studies = _imaging(rng, c)
    tables["lesions"] = _lesions(rng, c, studies)
    tables["adverse_events"] = _adverse_events(rng, c, tables["treatments"])
    typed = {name: _conform(name, frame) for name, frame in tables.items()}
    return Dataset(typed, source=f"synthetic registry (n_patients={n_patients}, seed={seed})")


def write_registry(n_patients: int, seed: int, out: Path) -> Path:
    """Write ``synthesize_registry(n_patients, seed)`` as a CSV folder ``out`` (deterministic)."""
    out = Path(out)
    write_csv_folder(synthesize_registry(n_patients, seed), out)
    return out


# --------------------------------------------------------------------------- the patients

@dataclass
class _Course:
    """Each patient's latent course of disease; times are days from the diagnosis date."""

    n: int
    patient_id: pl.Series
    diagnosis: np.ndarray        # days since 1970-01-01
    centre: np.ndarray           # index into _CENTRES
    follow_up: np.ndarray        # day of the last visit
    severity: np.ndarray
    t_nsaid: np.ndarray          # _NEVER when no NSAID
    t_second: np.ndarray         # second line (bisphosphonate / glucocorticoid); _NEVER when none
    has_bp: np.ndarray
    has_gc: np.ndarray
    t_bio: np.ndarray            # first biologic; _NEVER when none
    bio_drug: np.ndarray         # 0 = anakinra, 1.. = _OTHER_BIOLOGICS
    t_effective: np.ndarray      # start of the line that brings the disease down
    residual: np.ndarray         # activity left once that line works (as a share of severity)
    tau: np.ndarray              # how fast it works (days)

    def activity(self, idx: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Latent disease activity (0-1, no noise) of patients ``idx`` at days ``t``."""
        s, t_eff, res = self.severity[idx], self.t_effective[idx], self.residual[idx]
        untreated = np.where(t < self.t_nsaid[idx], 0.95, 0.8) * s
        decay = np.exp(-np.clip(t - t_eff, 0, None) / self.tau[idx])
        treated = s * (res + (0.8 - res) * decay)
        return np.where(t < t_eff, untreated, treated)


def _draw_course_of_disease(rng: np.random.Generator, n: int) -> _Course:
    width = max(4, len(str(n)))
    patient_id = pl.select(
        (pl.lit("P") + pl.int_range(1, n + 1, eager=False).cast(pl.String).str.zfill(width)).alias("patient_id")
    ).to_series()
    first, last = (dt.date(2004, 1, 1) - _EPOCH).days, (dt.date(2017, 12, 31) - _EPOCH).days
    diagnosis = rng.integers(first, last + 1, n)
    weights = np.array([c.weight for c in _CENTRES])
    centre = rng.choice(len(_CENTRES), n, p=weights / weights.sum())
    severity = rng.uniform(0.35, 1.0, n)
    # lines: 0 = NSAID only, 1 = a second line, 2 = up to a biologic
    line = rng.choice(3, n, p=[0.15, 0.28, 0.57])
    has_nsaid = rng.random(n) < 0.97
    t_nsaid = np.where(has_nsaid, rng.integers(0, 31, n), _NEVER)
    start = np.where(has_nsaid, t_nsaid, 0)
    has_bp = (line >= 1) & (rng.random(n) < np.where(line == 2, 0.85, 0.55))
    has_gc = (line >= 1) & (rng.random(n) < 0.3)
    has_second = has_bp | has_gc
    t_second = np.where(has_second, start + rng.integers(60, 301, n), _NEVER)
    has_bio = line == 2
    after = np.where(has_second, t_second + rng.integers(90, 541, n), start + rng.integers(120, 541, n))
    t_bio = np.where(has_bio, after, _NEVER)
    bio_drug = np.where(rng.random(n) < 0.85, 0, rng.integers(1, len(_OTHER_BIOLOGICS) + 1, n))
    years = rng.uniform(1.0, 6.0, n) * 365.25
    after_bio = t_bio + rng.integers(120, 1101, n)
    follow_up = np.rint(np.where(has_bio, np.maximum(years, after_bio), years)).astype(np.int64)
    follow_up = np.minimum(follow_up, int(7.5 * 365.25))
    t_effective = np.select([line == 2, has_second], [t_bio, t_second], start).astype(np.float64)
    responder = rng.random(n) < np.select([line == 2, line == 1], [0.65, 0.75], 0.85)
    residual = np.where(responder, rng.uniform(0.0, 0.1, n), rng.uniform(0.3, 0.6, n))
    tau = rng.uniform(30, 120, n)
    return _Course(n, patient_id, diagnosis, centre, follow_up, severity, t_nsaid, t_second,
                   has_bp, has_gc, t_bio, bio_drug, t_effective, residual, tau)


def _patients(rng: np.random.Generator, c: _Course) -> pl.DataFrame:
    n = c.n
    sex = rng.choice(3, n, p=[0.663, 0.332, 0.005])
    onset_age = np.clip(rng.normal(9.6, 3.0, n), 2.0, 17.0) * 365.25
    delay = np.clip(rng.gamma(1.6, 120.0, n), 0, 730)
    onset = c.diagnosis - np.rint(delay).astype(np.int64)
    birth = onset - np.rint(onset_age).astype(np.int64)
    birth_text = _dates(birth).dt.strftime("%Y-%m-%d")
    partial = pl.Series(rng.random(n) < 0.1)
    birth_text = pl.select(pl.when(partial).then(birth_text.str.slice(0, 7)).otherwise(birth_text)).to_series()
    return pl.DataFrame({
        "patient_id": c.patient_id,
        "sex": _labels(["F", "M", "U"], sex),
        "birth_date": _null_where(birth_text, rng.random(n) < 0.03),
        "onset_date": _dates(onset, rng.random(n) < 0.06),
        "diagnosis_date": _dates(c.diagnosis, rng.random(n) < 0.02),
        "center": _labels([x.name for x in _CENTRES], np.where(rng.random(n) < 0.02, -1, c.centre)),
        "synthetic": pl.repeat(True, n, dtype=pl.Boolean, eager=True),  # the label travels with the data
    })


# --------------------------------------------------------------------------- treatments

def _treatments(rng: np.random.Generator, c: _Course) -> pl.DataFrame:
    n = c.n
    parts: list[pl.DataFrame] = []

    def add(who: np.ndarray, drug: np.ndarray | str, start: np.ndarray, days: np.ndarray,
            dose: np.ndarray, unit: str | np.ndarray, route: str | np.ndarray,
            reasons: tuple[float, float, float, float], ongoing: float = 0.0) -> np.ndarray:
        """Courses for patients ``who``; returns their stop day (or _NEVER when ongoing)."""
        k = who.size
        stop = start + days
        reason = rng.choice(4, k, p=np.array(reasons) / sum(reasons))
        running = rng.random(k) < ongoing
        stop = np.where(running, _NEVER, stop)
        parts.append(pl.DataFrame({
            "pidx": who, "drug": _strings(drug, k), "start": start, "stop": stop,
            "dose": dose.astype(np.float64), "dose_unit": _strings(unit, k), "route": _strings(route, k),
            "reason": reason,
        }))
        return stop

    # NSAID first, some switch to another
    who = np.flatnonzero(c.t_nsaid < _NEVER)
    k = who.size
    drug = rng.choice(3, k, p=[0.6, 0.25, 0.15])
    dose = np.choose(drug, [rng.choice([10, 12.5, 15], k), rng.choice([20, 30, 40], k), rng.choice([1, 1.5, 2], k)])
    stop = add(who, np.array(_NSAIDS, dtype=object)[drug], c.t_nsaid[who], rng.integers(45, 366, k), dose,
               "mg/kg/day", "oral", (0.55, 0.04, 0.3, 0.11), ongoing=0.25)
    switch = (stop < _NEVER) & (rng.random(k) < 0.2)
    other = (drug[switch] + rng.integers(1, 3, switch.sum())) % 3
    add(who[switch], np.array(_NSAIDS, dtype=object)[other], stop[switch] + rng.integers(1, 30, switch.sum()),
        rng.integers(60, 400, switch.sum()), np.full(switch.sum(), 10.0), "mg/kg/day", "oral",
        (0.4, 0.04, 0.45, 0.11), ongoing=0.3)

    # bisphosphonates
    who = np.flatnonzero(c.has_bp)
    k = who.size
    late = (c.t_bio[who] < _NEVER) & (rng.random(k) < 0.05)   # added on after the biologic
    start = np.where(late, c.t_bio[who] + rng.integers(0, 120, k), c.t_second[who])
    zol = rng.random(k) < 0.25
    add(who, np.where(zol, "zoledronic acid", "pamidronate"), start, rng.integers(90, 541, k),
        np.where(zol, 0.025, 1.0), "mg/kg", "iv", (0.35, 0.05, 0.5, 0.1), ongoing=0.1)

    # glucocorticoids: prednisone orally, methylprednisolone iv pulses, a few topical
    who = np.flatnonzero(c.has_gc)
    k = who.size
    kind = rng.choice(3, k, p=[0.65, 0.25, 0.10])
    start = c.t_second[who] + np.where(c.has_bp[who], rng.integers(-20, 60, k), 0)
    start = np.maximum(start, 0)
    days = np.choose(kind, [rng.integers(14, 121, k), rng.integers(2, 5, k), rng.integers(14, 91, k)])
    add(who, np.where(kind == 0, "prednisone", "methylprednisolone"), start, days,
        np.choose(kind, [rng.choice([1.0, 1.5, 2.0], k), np.full(k, 30.0), np.full(k, np.nan)]),
        np.array(["mg/kg/day", "mg/kg", None], dtype=object)[kind],
        np.array(["oral", "iv", "topical"], dtype=object)[kind], (0.3, 0.05, 0.35, 0.3))

    # methotrexate or sulfasalazine
    who = np.flatnonzero((c.t_second < _NEVER) & (rng.random(n) < 0.3))
    k = who.size
    mtx = rng.random(k) < 0.7
    add(who, np.where(mtx, "methotrexate", "sulfasalazine"), c.t_second[who] + rng.integers(0, 181, k),
        rng.integers(90, 721, k), np.where(mtx, 15.0, 40.0), np.where(mtx, "mg/m2/week", "mg/kg/day"),
        np.where(mtx, np.where(rng.random(k) < 0.6, "sc", "oral"), "oral"), (0.5, 0.1, 0.3, 0.1), ongoing=0.2)

    # the first biologic: anakinra mostly; long, ongoing or short courses
    who = np.flatnonzero(c.t_bio < _NEVER)
    k = who.size
    drugs = np.array(["anakinra", *_OTHER_BIOLOGICS], dtype=object)
    drug = c.bio_drug[who]
    shape = rng.choice(3, k, p=[0.52, 0.36, 0.12])    # stopped after >= 182 days, ongoing, short
    days = np.choose(shape, [rng.integers(182, 901, k), np.full(k, _NEVER), rng.integers(14, 182, k)])
    responded = c.residual[who] < 0.2
    reasons = np.where(shape == 2, rng.choice([0, 1], k, p=[0.7, 0.3]),
                       np.where(responded, rng.choice([2, 3], k, p=[0.8, 0.2]), 0))
    dose, unit, route = _biologic_dosing(rng, drug)
    start = c.t_bio[who]
    stop = np.where(days >= _NEVER, _NEVER, start + days)
    parts.append(pl.DataFrame({"pidx": who, "drug": _strings(drugs[drug], 0), "start": start, "stop": stop,
                               "dose": dose,
                               "dose_unit": _strings(unit, 0), "route": _strings(route, 0), "reason": reasons}))

    # a switch after inefficacy or an adverse event: another biologic (anakinra when it was not)
    failed = (stop < _NEVER) & (reasons <= 1) & (rng.random(k) < 0.7)
    w2, d1 = who[failed], drug[failed]
    n_other = len(_OTHER_BIOLOGICS)
    another = 1 + (np.maximum(d1, 1) - 1 + rng.integers(1, n_other, w2.size)) % n_other
    d2 = np.where(d1 == 0, rng.integers(1, n_other + 1, w2.size),
                  np.where(rng.random(w2.size) < 0.5, 0, another))
    dose, unit, route = _biologic_dosing(rng, d2)
    start2 = stop[failed] + rng.integers(7, 61, w2.size)
    parts.append(pl.DataFrame({
        "pidx": w2, "drug": _strings(drugs[d2], 0), "start": start2,
        "stop": np.where(rng.random(w2.size) < 0.6, _NEVER, start2 + rng.integers(60, 721, w2.size)),
        "dose": dose, "dose_unit": _strings(unit, 0), "route": _strings(route, 0),
        "reason": rng.choice([0, 2, 3], w2.size)}))

    # anakinra again after a remission
    again = (drug == 0) & (stop < _NEVER) & (reasons == 2) & (rng.random(k) < 0.2)
    w3 = who[again]
    start3 = stop[again] + rng.integers(90, 401, w3.size)
    dose, unit, route = _biologic_dosing(rng, np.zeros(w3.size, dtype=np.int64))
    parts.append(pl.DataFrame({"pidx": w3, "drug": _strings("anakinra", w3.size), "start": start3,
                               "stop": np.full(w3.size, _NEVER), "dose": dose, "dose_unit": _strings(unit, 0),
                               "route": _strings(route, 0), "reason": np.zeros(w3.size, dtype=np.int64)}))

    courses = pl.concat([p.with_columns(pl.col("pidx").cast(pl.Int64), pl.col("start").cast(pl.Int64),
                                        pl.col("stop").cast(pl.Int64), pl.col("reason").cast(pl.Int64),
                                        pl.col("drug", "dose_unit", "route").cast(pl.String),
                                        pl.col("dose").cast(pl.Float64)) for p in parts])
    # what the registry saw: courses started by the last visit; one still running then is ongoing
    courses = courses.with_columns(fu=pl.Series(c.follow_up[courses["pidx"].to_numpy()]))
    courses = courses.filter(pl.col("start") <= pl.col("fu"))
    courses = courses.sort("pidx", "start", "drug")
    m = courses.height
    ongoing = (courses["stop"] > courses["fu"]).to_numpy()
    reason = np.where(ongoing | (rng.random(m) < 0.08), -1, courses["reason"].to_numpy())
    dose = courses["dose"].to_numpy().copy()
    dose[rng.random(m) < 0.08] = np.nan
    route = _null_where(courses["route"], rng.random(m) < 0.05)
    pidx = courses["pidx"].to_numpy()
    base = c.diagnosis[pidx]
    return pl.DataFrame({
        "patient_id": c.patient_id.gather(pidx),
        "drug": courses["drug"],
        "start_date": _dates(base + courses["start"].to_numpy()),
        "stop_date": _dates(base + np.where(ongoing, 0, courses["stop"].to_numpy()), ongoing),
        "dose": pl.Series(dose, nan_to_null=True),
        "dose_unit": _null_where(courses["dose_unit"], np.isnan(dose)),
        "route": route,
        "stop_reason": _labels(_REASONS, reason),
        "_pidx": pidx,
    })


def _biologic_dosing(rng: np.random.Generator, drug: np.ndarray):
    k = drug.size
    dose = np.choose(drug, [rng.choice([2.0, 3.0, 4.0], k, p=[0.6, 0.25, 0.15]), np.full(k, 40.0),
                            np.full(k, 0.8), np.full(k, 5.0), np.full(k, 4.0)])
    unit = np.array(["mg/kg/day", "mg/2 weeks", "mg/kg/week", "mg/kg", "mg/kg"], dtype=object)[drug]
    route = np.array(["sc", "sc", "sc", "iv", "sc"], dtype=object)[drug]
    return dose, unit, route


# --------------------------------------------------------------------------- visits and labs

def _assessments(rng: np.random.Generator, c: _Course) -> tuple[pl.DataFrame, pl.DataFrame]:
    n = c.n
    steps = 31  # 7.5 years / 90 days
    t = np.cumsum(rng.integers(90, 184, (n, steps)), axis=1)
    regular = np.concatenate([np.zeros((n, 1), dtype=np.int64), t], axis=1)
    extra = np.stack([
        np.where(rng.random(n) < 0.85, c.t_second, _NEVER),                       # start of a second line
        np.where(rng.random(n) < 0.9, c.t_bio - rng.integers(0, 15, n), _NEVER),  # start of the biologic
        np.where(rng.random(n) < 0.8, c.t_bio + rng.integers(150, 216, n), _NEVER),  # its 6-month review
        c.follow_up,                                                               # the last visit
    ], axis=1)
    pidx, t, _ = _per_patient_days(np.concatenate([regular, extra], axis=1), c.follow_up)
    m = pidx.size
    flare = (rng.random(m) < 0.06) * rng.uniform(0.15, 0.4, m)
    a = np.clip(c.activity(pidx, t) + rng.normal(0, 0.06, m) + flare, 0, 1)
    pga = np.digitize(a, _PGA_CUTS)
    pga_vas = np.clip(np.round((10 * a + rng.normal(0, 0.6, m)) * 2) / 2, 0, 10)
    patient_vas = np.clip(np.round((10 * a + rng.normal(0.5, 1.3, m)) * 2) / 2, 0, 10)
    pain_vas = np.clip(np.round(10 * a + rng.normal(0, 1.5, m)), 0, 10)
    chaq = np.clip(np.round((1.6 * a ** 1.5 + rng.normal(0, 0.2, m)) * 8) / 8, 0, 3)
    table = pl.DataFrame({
        "patient_id": c.patient_id.gather(pidx),
        "date": _dates(c.diagnosis[pidx] + t),
        "pga": _labels(_PGA, np.where(rng.random(m) < 0.07, -1, pga)),
        "pga_vas": _floats(pga_vas, rng.random(m) < 0.10),
        "patient_global_vas": _floats(patient_vas, rng.random(m) < 0.12),
        "pain_vas": _floats(pain_vas, rng.random(m) < 0.08),
        "chaq_di": _floats(chaq, rng.random(m) < 0.15),
        "bone_pain": _booleans(rng.random(m) < 0.1 + 0.85 * a, rng.random(m) < 0.06),
        "local_swelling": _booleans(rng.random(m) < 0.6 * a, rng.random(m) < 0.08),
        "functional_impairment": _booleans(rng.random(m) < 0.7 * a ** 1.5, rng.random(m) < 0.08),
        "fever": _booleans(rng.random(m) < 0.02 + 0.12 * a, rng.random(m) < 0.10),
    })
    return table, pl.DataFrame({"pidx": pidx, "t": t, "a": a})


def _labs(rng: np.random.Generator, c: _Course, visits: pl.DataFrame) -> pl.DataFrame:
    visits = visits.filter(pl.Series(rng.random(visits.height) < 0.8))
    pidx, t, a = visits["pidx"].to_numpy(), visits["t"].to_numpy(), visits["a"].to_numpy()
    m = pidx.size
    centre = c.centre[pidx]
    mg_dl = np.array([x.crp_unit == "mg/dL" for x in _CENTRES])[centre]
    gives_ref = np.array([x.ref_high for x in _CENTRES])[centre]
    esr_limit = np.array([x.esr_limit for x in _CENTRES])[centre]
    esr = np.clip(np.rint(4 + 55 * a ** 1.3 * rng.lognormal(0, 0.3, m)), 1, 140)
    crp_mg_l = 0.2 + 35 * a ** 2 * rng.lognormal(0, 0.5, m)
    crp = np.where(mg_dl, np.round(crp_mg_l / 10, 2), np.round(crp_mg_l, 1))
    detection = np.array([x.crp_detection for x in _CENTRES])[centre]
    censored = crp < detection
    crp = np.where(censored, detection, crp)
    cbc = rng.random(m) < 0.35
    wbc = np.round(np.clip(5 + 6 * a + rng.normal(0, 1.5, m), 2, 25), 1)
    plt_count = np.rint(np.clip(250 + 200 * a + rng.normal(0, 50, m), 80, 900))
    cbc = cbc & (rng.random(m) < 0.97)
    nan = np.full(m, np.nan)
    # one column per test, in the order of the table's key (CRP, ESR, PLT, WBC)
    tests = ["CRP", "ESR", "PLT", "WBC"]
    units = ["mg/L", "mg/dL", "mm/h", "10^9/L"]
    rows = np.stack([rng.random(m) < 0.95, rng.random(m) < 0.95, cbc, cbc], axis=1)
    value = np.stack([crp, esr, plt_count, wbc], axis=1)[rows]
    unit = np.stack([mg_dl.astype(np.int64), np.full(m, 2), np.full(m, 3), np.full(m, 3)], axis=1)[rows]
    high = np.stack([np.where(gives_ref, np.where(mg_dl, 0.5, 5.0), np.nan), np.where(gives_ref, esr_limit, np.nan),
                     np.where(gives_ref, 450.0, np.nan), np.where(gives_ref, 11.0, np.nan)], axis=1)[rows]
    low = np.stack([nan, nan, np.where(gives_ref, 150.0, np.nan), np.where(gives_ref, 4.0, np.nan)], axis=1)[rows]
    cens = np.stack([censored, np.zeros(m, bool), np.zeros(m, bool), np.zeros(m, bool)], axis=1)[rows]
    test = np.broadcast_to(np.arange(4), rows.shape)[rows]
    p = np.broadcast_to(pidx[:, None], rows.shape)[rows]
    day = np.broadcast_to(t[:, None], rows.shape)[rows]
    return pl.DataFrame({
        "patient_id": c.patient_id.gather(p),
        "date": _dates(c.diagnosis[p] + day),
        "test": _labels(tests, test), "value": value, "censor": _labels(["<"], np.where(cens, 0, -1)),
        "unit": _labels(units, unit),
        "ref_high": pl.Series(high, nan_to_null=True), "ref_low": pl.Series(low, nan_to_null=True),
    })


# --------------------------------------------------------------------------- imaging

_MODALITIES = ["bone_scintigraphy", "wb_mri", "mri", "xray"]
_SENSITIVITY = np.array([0.93, 0.97, 0.35, 0.2])


def _imaging(rng: np.random.Generator, c: _Course) -> tuple[pl.DataFrame, pl.DataFrame]:
    n = c.n
    steps = 10
    yearly = rng.integers(-20, 41, (n, 1)) + np.concatenate(
        [np.zeros((n, 1), dtype=np.int64), np.cumsum(rng.integers(300, 431, (n, steps - 1)), axis=1)], axis=1)
    around = np.stack([
        np.where(rng.random(n) < 0.92, c.t_bio - rng.integers(0, 76, n), _NEVER),    # before the biologic
        np.where(rng.random(n) < 0.88, c.t_bio + rng.integers(140, 231, n), _NEVER),  # about 6 months later
        np.where(rng.random(n) < 0.15, rng.integers(30, 700, n), _NEVER),           # a targeted study
    ], axis=1)
    pidx, t, column = _per_patient_days(np.concatenate([yearly, around], axis=1), c.follow_up)
    targeted = column == steps + 2
    m = pidx.size
    usual = np.array([_MODALITIES.index(x.imaging) for x in _CENTRES])[c.centre[pidx]]
    other = np.where(usual == 0, 1, 0)
    r = rng.random(m)
    modality = np.where(r < 0.92, usual, np.where(r < 0.98, other, 2))
    modality = np.where(targeted, np.where(rng.random(m) < 0.7, 2, 3), modality)
    first = np.r_[0, np.flatnonzero(np.diff(pidx)) + 1]
    number = np.arange(m) - np.repeat(first, np.diff(np.r_[first, m])) + 1
    study_id = pl.DataFrame({"p": c.patient_id.gather(pidx), "k": number}).select(
        pl.col("p") + "-S" + pl.col("k").cast(pl.String).str.zfill(2)).to_series().alias("study_id")
    studies = pl.DataFrame({"pidx": pidx, "t": t, "study_id": study_id, "modality": modality})
    table = pl.DataFrame({
        "patient_id": c.patient_id.gather(pidx),
        "study_id": study_id,
        "date": _dates(c.diagnosis[pidx] + t),
        "modality": _labels(_MODALITIES, modality),
    })
    return table, studies


def _lesion_sites(rng: np.random.Generator, c: _Course) -> pl.DataFrame:
    """Every patient's lesions: bone, side, segment, when each appears and resolves."""
    n = c.n
    groups = list(SITE_FREQUENCIES)
    chosen = np.stack([rng.random(n) < SITE_FREQUENCIES[g][0] for g in groups], axis=1)
    none = ~chosen.any(axis=1)
    weights = np.array([SITE_FREQUENCIES[g][0] for g in groups])
    chosen[np.flatnonzero(none), rng.choice(len(groups), none.sum(), p=weights / weights.sum())] = True
    pidx, group = np.nonzero(chosen)
    # a second lesion in the same group (another vertebra, both metaphyses, another pelvic bone)
    twice = rng.random(pidx.size) < 0.5
    pidx, group = np.concatenate([pidx, pidx[twice]]), np.concatenate([group, group[twice]])
    k = pidx.size
    bone = np.empty(k, dtype=object)
    for g, name in enumerate(groups):
        at = np.flatnonzero(group == g)
        bones = SITE_FREQUENCIES[name][1]
        w = np.array(list(bones.values()))
        bone[at] = np.array(list(bones), dtype=object)[rng.choice(len(bones), at.size, p=w / w.sum())]
    side = np.where(rng.random(k) < 0.5, "left", "right").astype(object)
    side[np.isin(bone, list(_MIDLINE))] = None
    mandible = bone == "mandible"
    side[mandible & (rng.random(k) < 0.3)] = None
    segment = np.full(k, None, dtype=object)
    for bones, choices in ((_LONG, _LONG_SEGMENTS), (tuple(_MIDLINE - {"sacrum", "sternum"}), _VERTEBRA_SEGMENTS),
                           (("clavicle",), _CLAVICLE_SEGMENTS)):
        at = np.flatnonzero(np.isin(bone, list(bones)))
        p = np.array(list(choices.values()))
        segment[at] = np.array(list(choices), dtype=object)[rng.choice(len(choices), at.size, p=p / p.sum())]
    sites = pl.DataFrame({"pidx": pidx, "bone": _strings(bone, 0), "side": _strings(side, 0),
                          "segment": _strings(segment, 0)})
    # symmetry: the same site on the other side
    paired = sites.filter(pl.col("side").is_not_null() & pl.Series(rng.random(k) < 0.45))
    other_side = pl.when(pl.col("side") == "left").then(pl.lit("right")).otherwise(pl.lit("left"))
    mirror = paired.with_columns(other_side.alias("side"))
    sites = pl.concat([sites, mirror]).unique(["pidx", "bone", "side", "segment"], keep="first", maintain_order=True)
    sites = sites.sort("pidx", "bone", "side", "segment", nulls_last=False)
    sites = sites.with_columns(lesion=pl.col("pidx").cum_count().over("pidx"),
                               alone=pl.len().over("pidx", "bone", "side") == 1)
    k = sites.height
    p = sites["pidx"].to_numpy()
    # most lesions are there at diagnosis; some appear later; most resolve once treatment works
    later = rng.random(k) < 0.25
    appear = np.where(later, rng.integers(20, 2000, k), -rng.integers(0, 200, k))
    start = np.maximum(appear, c.t_effective[p])
    heals = rng.random(k) < 0.85
    resolve = np.where(heals & (c.t_effective[p] < _NEVER), start + rng.exponential(250, k), _NEVER)
    return sites.with_columns(appear=pl.Series(appear), resolve=pl.Series(np.rint(resolve).astype(np.int64)))


def _lesions(rng: np.random.Generator, c: _Course, studies: pl.DataFrame) -> pl.DataFrame:
    sites = _lesion_sites(rng, c)
    # every study against every lesion of its patient, in study then lesion order
    site_pidx = sites["pidx"].to_numpy()
    per_patient = np.bincount(site_pidx, minlength=c.n)
    first_site = np.cumsum(per_patient) - per_patient
    study_pidx = studies["pidx"].to_numpy()
    per_study = per_patient[study_pidx]
    study = np.repeat(np.arange(studies.height), per_study)
    within = np.arange(study.size) - np.repeat(np.cumsum(per_study) - per_study, per_study)
    site = np.repeat(first_site[study_pidx], per_study) + within
    m = study.size
    pidx, t = study_pidx[study], studies["t"].to_numpy()[study]
    appear, resolve = sites["appear"].to_numpy()[site], sites["resolve"].to_numpy()[site]
    detected = rng.random(m) < _SENSITIVITY[studies["modality"].to_numpy()[study]]
    present = (appear <= t) & (t < resolve) & detected
    healed = (t >= resolve) & (t < resolve + 150) & (rng.random(m) < 0.25) & detected
    centre = c.centre[pidx]
    a = c.activity(pidx, t.astype(np.float64))
    grade = 1 + (a > 0.3).astype(np.int64) + (a > 0.6)
    grade = np.clip(grade + np.where(rng.random(m) < 0.15, rng.choice([-1, 1], m), 0), 1, 3)
    grades = np.array([x.grades for x in _CENTRES])[centre]
    active_word = np.array([x.writes_active for x in _CENTRES])[centre]
    tracks = np.array([x.tracks_lesions for x in _CENTRES])[centre]
    symptomatic = np.where(rng.random(m) < 0.2, 2, rng.random(m) < 0.1 + 0.6 * a)
    # a segment left out now and then, where that keeps the row unique (matching rule 3)
    drop_segment = (rng.random(m) < 0.06) & sites["alone"].to_numpy()[site]
    keep = present | healed
    site, study = site[keep], study[keep]
    return pl.DataFrame({
        "study_id": studies["study_id"].gather(study),
        "bone": sites["bone"].gather(site),
        "side": sites["side"].gather(site),
        "segment": _null_where(sites["segment"].gather(site), drop_segment[keep]),
        "activity": _labels(["active", "inactive"], np.where(healed, 1, np.where(active_word, 0, -1))[keep]),
        "grade": pl.Series(np.where(grades & present, grade, np.nan)[keep], nan_to_null=True).cast(pl.Int64),
        "symptomatic": _labels_bool(np.where(healed, 2, symptomatic)[keep]),
        "lesion_id": _null_where(("L" + sites["lesion"].cast(pl.String)).gather(site), ~tracks[keep]),
    })


# --------------------------------------------------------------------------- adverse events

_AE_TERMS = {
    # drug: (probability during a course, term, grade choices)
    "anakinra": (0.06, "injection site reaction", (1, 2)),
    "pamidronate": (0.08, "acute phase reaction", (1, 2)),
    "zoledronic acid": (0.08, "acute phase reaction", (1, 2)),
    "methotrexate": (0.05, "transaminase elevation", (1, 2, 3)),
    "naproxen": (0.01, "abdominal pain", (1, 2)),
    "ibuprofen": (0.01, "abdominal pain", (1, 2)),
    "indomethacin": (0.02, "headache", (1, 2)),
    "adalimumab": (0.03, "infection", (2, 3)),
    "etanercept": (0.03, "infection", (2, 3)),
    "infliximab": (0.03, "infusion reaction", (1, 2, 3)),
    "canakinumab": (0.03, "infection", (2, 3)),
    "prednisone": (0.03, "weight gain", (1, 2)),
    "sulfasalazine": (0.03, "rash", (1, 2)),
}


def _adverse_events(rng: np.random.Generator, c: _Course, treatments: pl.DataFrame) -> pl.DataFrame:
    known = treatments.filter(pl.col("drug").is_in(list(_AE_TERMS)))
    k = known.height
    prob = np.array([_AE_TERMS[d][0] for d in _AE_TERMS])
    code = known["drug"].replace_strict(list(_AE_TERMS), list(range(len(_AE_TERMS))),
                                        return_dtype=pl.Int64).to_numpy()
    stopped_for_it = (known["stop_reason"] == "adverse_event").fill_null(False).to_numpy()
    happens = stopped_for_it | (rng.random(k) < prob[code])
    start = _day_numbers(known["start_date"])
    stop = _day_numbers(known["stop_date"])
    last = c.diagnosis[known["_pidx"].to_numpy()] + c.follow_up[known["_pidx"].to_numpy()]
    end = np.where(np.isnan(stop), last, stop)
    onset = np.where(stopped_for_it, end - rng.integers(0, 11, k), start + rng.integers(0, 60, k))
    onset = np.clip(onset, start, end).astype(np.int64)
    terms = np.array([_AE_TERMS[d][1] for d in _AE_TERMS], dtype=object)[code]
    low = np.array([min(_AE_TERMS[d][2]) for d in _AE_TERMS])[code]
    high = np.array([max(_AE_TERMS[d][2]) for d in _AE_TERMS])[code]
    grade = rng.integers(low, high + 1)
    serious = grade >= 3
    outcome = rng.choice(5, k, p=[0.75, 0.1, 0.04, 0.0, 0.11])
    events = pl.DataFrame({
        "patient_id": known["patient_id"], "onset_date": _dates(onset), "term": _strings(terms, 0),
        "grade": pl.Series(np.where(rng.random(k) < 0.1, np.nan, grade), nan_to_null=True).cast(pl.Int64),
        "serious": _booleans(serious, rng.random(k) < 0.1),
        "drug": _null_where(known["drug"], rng.random(k) < 0.1),
        "outcome": _labels(["recovered", "recovering", "not_recovered", "fatal", "unknown"], outcome),
    }).filter(pl.Series(happens))
    return events.unique(["patient_id", "onset_date", "term"], keep="first", maintain_order=True)


# --------------------------------------------------------------------------- columns

def _per_patient_days(days: np.ndarray, follow_up: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flatten a patients x events matrix of days into (patient, day, column) rows sorted by
    patient and day, keeping days up to the patient's follow-up and one row per day."""
    order = np.argsort(days, axis=1, kind="stable")
    days = np.take_along_axis(days, order, axis=1)
    keep = days <= follow_up[:, None]
    keep[:, 1:] &= days[:, 1:] != days[:, :-1]
    pidx = np.broadcast_to(np.arange(days.shape[0])[:, None], days.shape)[keep]
    return pidx, days[keep], order[keep]


def _dates(days: np.ndarray, missing: np.ndarray | None = None) -> pl.Series:
    values = np.asarray(days, dtype=np.float64)
    if missing is not None:
        values = np.where(missing, np.nan, values)
    return pl.Series(values, nan_to_null=True).cast(pl.Int32).cast(pl.Date)


def _day_numbers(dates: pl.Series) -> np.ndarray:
    return dates.cast(pl.Int32).cast(pl.Float64).to_numpy()


def _labels(labels: list[str], codes: np.ndarray) -> pl.Series:
    """Labels by code; a negative code is a missing value."""
    table = pl.Series([*labels, None], dtype=pl.String)
    codes = np.asarray(codes)
    return table.gather(np.where(codes < 0, len(labels), codes))


def _strings(values: np.ndarray | str, k: int) -> pl.Series:
    """A text column from one value or an array of values (``None`` = missing)."""
    if isinstance(values, str):
        return pl.Series([values], dtype=pl.String).gather(np.zeros(k, dtype=np.int64))
    return pl.Series(np.asarray(values, dtype=object).tolist(), dtype=pl.String)


def _floats(values: np.ndarray, missing: np.ndarray) -> pl.Series:
    return pl.Series(np.where(missing, np.nan, values), nan_to_null=True)


def _booleans(values: np.ndarray, missing: np.ndarray) -> pl.Series:
    return _labels_bool(np.where(missing, 2, values.astype(np.int64)))


def _labels_bool(codes: np.ndarray) -> pl.Series:
    return pl.Series([False, True, None], dtype=pl.Boolean).gather(codes)


def _null_where(series: pl.Series, missing: np.ndarray) -> pl.Series:
    return pl.select(pl.when(pl.Series(missing)).then(None).otherwise(series)).to_series().alias(series.name)


def _conform(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """The table with exactly the columns and types of the exchange format, sorted by its key
    (a column the registry does not make, such as those of format 1.1, empty)."""
    schema = empty_table(name).schema
    key = list(exchange_format().table(name).key)
    return frame.select([pl.col(col).cast(dtype) if col in frame.columns else pl.lit(None, dtype).alias(col)
                         for col, dtype in schema.items()]).sort(key, nulls_last=False)
