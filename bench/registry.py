"""Registries shaped like real ones, for the benchmark: ``cnotrack synth``, then varied.

``cnotrack synth`` writes tidy files: canonical lower-case spellings, ``F``/``M``, full dates,
no censored values, mg/L only, LF line ends, no quotes. A registry's export is not tidy, so
``vary`` rewrites a synth folder, row by row at random (seeded, vectorised), into one that
means the same thing but is spelt the way centres spell it:

* vocabulary in mixed case (``Anakinra``, ``FEMUR``, ``Left``, ``Bone Scintigraphy``,
  ``Severe``, ``crp``, ``YES``) and drugs by brand name (``Kineret``, ``Naprosyn``);
* sex as ``female`` / ``male``;
* about a third of birth dates as ``YYYY-MM`` (a registry keeps only the month);
* CRP values below 0.5 mg/L written as ``<0.5`` (censored), ESR below 2 as ``<2``;
* a quarter of the CRP rows in mg/dL (value / 10, upper limit 0.5 mg/dL);
* ``lesion_id`` on every lesion of about a fifth of the patients, the same for one site of one
  patient in every study (so the lesions' fates are those the site would give);
* CRLF line ends in every file, every text cell quoted in some files (``"Centre A"``), and
  some adverse-event terms that need quotes (``pain, abdominal``).

What the registry means is unchanged: the evaluation of ``vary(synth)`` equals that of
``synth`` except where a spelling carries less (a birth date without its day, a censored CRP).

``python bench/registry.py OUT --patients N [--seed S]`` writes one.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl

__all__ = ["vary", "write_varied_registry"]

#: files whose every text cell is quoted (the rest quote only where a cell needs it)
QUOTED = {"patients", "treatments", "adverse_events", "imaging"}


def _case(column: str, rng: np.random.Generator, height: int) -> pl.Expr:
    """The column in lower (as given), Title or UPPER case, about a third each."""
    pick = pl.Series(rng.integers(0, 3, height))
    c = pl.col(column)
    return (pl.when(pick == 1).then(c.str.to_titlecase())
            .when(pick == 2).then(c.str.to_uppercase()).otherwise(c).alias(column))


def _brands() -> dict[str, str]:
    """A brand name (or other synonym) per drug that has one, from cnotrack's vocabulary."""
    from cnotrack.vocabulary import drugs

    return {d.name: d.synonyms[0].title() for d in drugs().drugs if d.synonyms}


def vary(tables: dict[str, pl.DataFrame], seed: int = 7) -> dict[str, pl.DataFrame]:
    """The tables of a synth registry respelt as described in the module docstring."""
    rng = np.random.default_rng(seed)
    out = dict(tables)
    p = tables["patients"]
    month_only = pl.Series(rng.random(p.height) < 0.33)
    out["patients"] = p.with_columns(
        pl.col("sex").replace({"F": "female", "M": "male"}),
        pl.when(month_only).then(pl.col("birth_date").str.slice(0, 7)).otherwise(pl.col("birth_date"))
        .alias("birth_date"),
        _case("synthetic", rng, p.height),
    )
    t = tables["treatments"]
    brand = pl.Series(rng.random(t.height) < 0.2)
    out["treatments"] = t.with_columns(_case("drug", rng, t.height)).with_columns(
        pl.when(brand).then(pl.col("drug").str.to_lowercase().replace(_brands()))
        .otherwise(pl.col("drug")).alias("drug"),
        _case("route", rng, t.height),
    )
    a = tables["assessments"]
    out["assessments"] = a.with_columns(_case("pga", rng, a.height), _case("bone_pain", rng, a.height),
                                        _case("fever", rng, a.height))
    lab = tables["labs"]
    value = pl.col("value").cast(pl.Float64, strict=False)  # synth writes some "<0.3" already
    dl = pl.Series(rng.random(lab.height) < 0.25) & (pl.col("test") == "CRP")
    out["labs"] = lab.with_columns(
        pl.when((pl.col("test") == "CRP") & (value < 0.5)).then(pl.lit("<0.5"))
        .when((pl.col("test") == "ESR") & (value < 2)).then(pl.lit("<2"))
        .when(dl & value.is_not_null()).then((value / 10).round(3).cast(pl.String))
        .otherwise(pl.col("value")).alias("value"),
        pl.when(dl & value.is_not_null() & (value >= 0.5)).then(pl.lit("mg/dL")).otherwise(pl.col("unit")).alias("unit"),
        pl.when(dl & value.is_not_null() & (value >= 0.5)).then((pl.col("ref_high").cast(pl.Float64) / 10).cast(pl.String))
        .otherwise(pl.col("ref_high")).alias("ref_high"),
    ).with_columns(_case("test", rng, lab.height))
    img = tables["imaging"]
    out["imaging"] = img.with_columns(_case("modality", rng, img.height).str.replace_all("_", " "))
    les = tables["lesions"]
    owners = img.select("study_id", "patient_id")
    chosen = p.select("patient_id").with_columns(
        pl.Series("with_ids", rng.random(p.height) < 0.2))
    les = les.join(owners, on="study_id", how="left").join(chosen, on="patient_id", how="left")
    site = pl.concat_str([pl.lit("L"), pl.col("bone"), pl.col("side").fill_null("-"),
                          pl.col("segment").fill_null("-")], separator="-")
    out["lesions"] = les.with_columns(
        pl.when(pl.col("with_ids") & pl.col("lesion_id").is_null()).then(site)
        .otherwise(pl.col("lesion_id")).alias("lesion_id"),
    ).drop("patient_id", "with_ids").with_columns(
        _case("bone", rng, les.height), _case("side", rng, les.height), _case("activity", rng, les.height))
    if "adverse_events" in tables:
        ae = tables["adverse_events"]
        comma = pl.Series(rng.random(ae.height) < 0.3)
        out["adverse_events"] = ae.with_columns(
            pl.when(comma & (pl.col("term") == "abdominal pain")).then(pl.lit("Pain, abdominal"))
            .otherwise(pl.col("term")).alias("term"))
    return out


def write_varied_registry(n_patients: int, out: Path, seed: int = 1, cnotrack: str | None = None) -> Path:
    """Write ``cnotrack synth --patients N --seed S`` to ``out``, then respell it in place."""
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    exe = cnotrack or str(Path(sys.executable).with_name("cnotrack"))
    subprocess.run([exe, "synth", "--out", str(out), "--patients", str(n_patients), "--seed", str(seed)],
                   check=True, stdout=subprocess.DEVNULL)
    tables = {f.stem: pl.read_csv(f, infer_schema=False) for f in sorted(out.glob("*.csv"))}
    for name, frame in vary(tables, seed).items():
        frame.write_csv(out / f"{name}.csv", line_terminator="\r\n",
                        quote_style="non_numeric" if name in QUOTED else "necessary")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(write_varied_registry(args.patients, args.out, args.seed))


if __name__ == "__main__":
    main()
