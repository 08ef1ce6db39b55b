"""The worked examples (worked_examples.yaml) and docs/instruments.md rendered from them.

docs/instruments.md is generated from the instrument definitions and the examples marked
``docs: true``, so the documentation shows exactly what the tests check. After changing a
definition, an example or a rendering, regenerate it::

    PYTHONPATH=src .venv/bin/python tests/instruments/_worked_examples.py --write
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

import yaml

from cnotrack.instruments import InstrumentDefinition, list_instruments, score

HERE = Path(__file__).resolve().parent
EXAMPLES_FILE = HERE / "worked_examples.yaml"
DOCS_FILE = HERE.parent.parent / "docs" / "instruments.md"


def load() -> dict[str, list[dict[str, Any]]]:
    return yaml.safe_load(EXAMPLES_FILE.read_text(encoding="utf-8"))


def examples() -> list[dict[str, Any]]:
    return load()["examples"]


def error_examples() -> list[dict[str, Any]]:
    return load()["errors"]


def command_line(example: dict[str, Any]) -> str:
    """The command a user types for this example."""
    args = [f"{key}={value}" for key, value in example["inputs"].items()]
    return shlex.join(["cnotrack", "score", example["instrument"], *args])


def run(example: dict[str, Any]):
    """Score the example exactly as the command line would: every value as a string."""
    tokens = shlex.split(command_line(example))
    name, args = tokens[2], tokens[3:]
    from cnotrack.instruments import parse_key_value_args

    return score(name, parse_key_value_args(args))


_INTRO = """\
# Clinical instruments

<!-- Generated from src/cnotrack/instruments/definitions/*.yaml and
     tests/instruments/worked_examples.yaml by tests/instruments/_worked_examples.py --write.
     Do not edit by hand: tests/instruments/test_docs_match_worked_examples.py fails when this
     file and the data differ. -->

cnotrack ships six instruments for chronic nonbacterial osteomyelitis (CNO). Each is defined
by a data file (`src/cnotrack/instruments/definitions/<id>.yaml`) with its citation, what is
known of it and how sure (`certainty`), its inputs with type, unit and allowed range, its
items and its cut-offs. Nothing whose definition is unknown is shipped (the EULAR/ACR 2025
classification criteria, CDAS, RAI-CROMRIS and RINBO are not implemented yet).

**Certainty.** *confirmed*: read in published text. *reproduced*: widely reproduced, but the
primary table was not read here; each such instrument lists what could not be checked.

**Use.** From Python, call the instrument's own function (e.g. `jansson_score(...)`) or
`cnotrack.instruments.score(name, inputs)`; from the command line,
`cnotrack score NAME key=value ...`, which hands its `key=value` arguments, as strings, to
`score`; the worked examples below are checked by doing exactly that. Booleans are
yes/no/y/n/true/false/1/0 in any case. An unknown key, a missing required key or a value out
of range is an error that names the key, the bad value, what is allowed and the fix.

**Result.** Every instrument returns an `InstrumentResult`; `as_json()` gives a dict with
`instrument`, `name`, `score` (null where there is none), `interpretation` (a sentence),
`items` (a list of `{input, value, points, note}`; `points` is null where the instrument adds
no points), `citation`, `doi`, `certainty`, `notes` (the rules applied and any warning), then
the instrument's own keys at the top level (listed below for each instrument). `to_text()` is
the readable explanation shown in the worked examples.

These instruments are research tools: they apply published definitions to recorded data.
They do not make a diagnosis and give no treatment advice.

| id | instrument | certainty |
| --- | --- | --- |
"""

_EXTRA_KEYS = {
    "jansson": "`category` (`nbo_likely`, `nbo_unlikely`, `indeterminate`), `cutoff`, `max_points`.",
    "nbods": "`category` (`favours_nbo`, `favours_bo`), `cutoff`, `max_points`.",
    "bristol": (
        "`status` (`met`, `not met`, `undetermined`), `met` (true/false/null), `branch` (the branch "
        "through which criterion 3 is met, `3a` or `3b`, also when criterion 1 or 2 fails; null when "
        "criterion 3 is not met or its branch depends on a missing input), `criteria` (`1`, `2`, `3a`, `3b`, `3` -> true/false/null where a missing input decides "
        "it), `missing` (every missing key), `undetermined_by` (the missing keys that decide an "
        "undetermined result)."
    ),
    "pedcno": (
        "`improved` (`{\"30\": [variables], \"50\": [...], \"70\": [...], \"90\": [...]}`: the variables "
        "improved by at least X %; the count is the list's length), `worsened` (variables worsened by "
        "more than the limit), `not_evaluable` (baseline 0), `percent_change` (`{variable: percent or "
        "null}`, rounded to 2 decimals; decisions use the exact value), `pedcno30`, `pedcno50`, "
        "`pedcno70`, `pedcno90` (booleans), `worsening_limit`."
    ),
    "chaq": (
        "`domains` (`{domain: score or null}`), `answered_domains`, `min_domains`, `raised_by_aid`, "
        "`aid_on_unanswered_domain`."
    ),
    "pga": (
        "`value` (as recorded), `scale` (`ordinal` or `vas`), `severe_course` (vas: PGA >= 4; ordinal: "
        "null), `none_or_minimal` (ordinal; vas: null). `score` is the 0-10 value, or null on the "
        "ordinal scale."
    ),
}


def render_docs() -> str:
    definitions = list_instruments()
    parts = [
        _INTRO
        + "".join(f"| [`{d.id}`](#{d.id}) | {d.name} | {d.certainty.value} |\n" for d in definitions)
    ]
    by_instrument: dict[str, list[dict[str, Any]]] = {}
    for example in examples():
        if example.get("docs"):
            by_instrument.setdefault(example["instrument"], []).append(example)
    for definition in definitions:
        parts.append(render_section(definition, by_instrument.get(definition.id, [])))
    return "\n".join(parts)


def render_section(d: InstrumentDefinition, docs_examples: list[dict[str, Any]]) -> str:
    out = [f'<a id="{d.id}"></a>', f"## {d.name} (`{d.id}`)", "", d.purpose, ""]
    doi = f" doi:[{d.doi}](https://doi.org/{d.doi})" if d.doi else " DOI: not confirmed (left empty)."
    pmid = f" PMID {d.pmid}." if d.pmid else ""
    out += [f"**Source.** {d.citation}{doi}{pmid}", ""]
    for ref in d.references:
        rdoi = f" doi:[{ref.doi}](https://doi.org/{ref.doi})" if ref.doi else ""
        out += [f"**Also.** {ref.citation}{rdoi} ({ref.supports})", ""]
    out += [f"**Certainty: {d.certainty.value}.** {d.certainty_note}", ""]
    out += ["Confirmed:", "", *[f"- {line}" for line in d.confirmed], ""]
    out += ["Not checked against the primary source, or cnotrack's own choice:", ""]
    out += [*[f"- {line}" for line in d.not_checked], ""]
    out += ["Rules:", "", *[f"- {line}" for line in d.rules], ""]
    if d.scope_note:
        out += [f"*{d.scope_note}*", ""]
    out += ["Inputs:", "", "| key | meaning | allowed | required |", "| --- | --- | --- | --- |"]
    for spec in d.inputs:
        required = "yes" if spec.required else (f"no (default {spec.default})" if spec.default is not None else "no")
        out.append(f"| `{spec.key}` | {spec.label} | {spec.allowed()} | {required} |")
    out.append("")
    if d.items:
        out += ["Items:", "", "| item | rule | points | odds ratio | certainty |", "| --- | --- | --- | --- | --- |"]
        for item in d.items:
            odds = f"{item.odds_ratio:.1f}" if item.odds_ratio is not None else ""
            out.append(f"| {item.label} | `{item.rule()}` | {item.points} | {odds} | {item.certainty.value} |")
        out.append("")
    if d.domains:
        out += ["Domains:", "", "| domain | items | aid/help key |", "| --- | --- | --- |"]
        for domain in d.domains:
            labels = "; ".join(f"`{k}` {d.input(k).label}" for k in domain.items)
            out.append(f"| {domain.label} | {labels} | `{domain.aid_key}` |")
        out.append("")
    if d.cutoffs:
        out += ["Cut-offs (the first that applies):", "", "| applies to | total | interpretation | certainty |", "| --- | --- | --- | --- |"]
        for cut in d.cutoffs:
            out.append(f"| {cut.applies_to or 'total'} | {cut.rule()} | {cut.interpretation} | {cut.certainty.value} |")
        out.append("")
    out += [f"Output keys besides the common ones: {_EXTRA_KEYS[d.id]}", ""]
    for example in docs_examples:
        out += [f"### Worked example: {example['title']}", "", "```console"]
        out.append(f"$ {command_line(example)}")
        out.append(run(example).to_text())
        out += ["```", ""]
    return "\n".join(out)


if __name__ == "__main__":
    text = render_docs()
    if "--write" in sys.argv[1:]:
        DOCS_FILE.write_text(text, encoding="utf-8")
        print(f"wrote {DOCS_FILE}")
    else:
        sys.stdout.write(text)
