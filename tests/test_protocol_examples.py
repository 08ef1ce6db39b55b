"""The worked examples of docs/protocols.md run: every ```yaml block after an
``<!-- example: NAME fixture: FIXTURE [copy_of: BUILTIN] -->`` comment is evaluated on that
fixture, and every ``<!-- expect: ... -->`` comment after it is checked.

Expectations (each in its own comment):

- ``ID = N/OF``: a proportion endpoint's n and of; ``ID = X``: a count; ``ID.key.0.key = X``: a
  value inside the endpoint's JSON (a number matches to the decimals written, 6 at least;
  ``none``: null);
- ``compare KEY: ID [GROUP] = N/OF`` (or ``[GROUP].key = X``, or ``test.key = X``): an endpoint
  of a comparison, per group or its test;
- ``warnings = N``: the loader's warnings; ``published = none``: no endpoint keeps a published value.

``copy_of: BUILTIN`` means the block holds top-level keys that replace those of the built-in
protocol's file (a copy with only those keys changed), written to a file and loaded from it.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import pytest
import yaml

import cnotrack
from cnotrack.engine import evaluate
from cnotrack.protocols import load_protocol_with_warnings

DOCS = Path(__file__).resolve().parents[1] / "docs"
FIXTURES = {"clinic": DOCS / "examples" / "clinic"}
_EXAMPLE = re.compile(r"<!-- example: (?P<name>\S+) fixture: (?P<fixture>\S+)(?: copy_of: (?P<copy>\S+))? -->\n"
                      r"```yaml\n(?P<yaml>.*?)```\n", re.S)
_EXPECT = re.compile(r"<!-- expect: (.+?) -->")


def examples() -> list[dict]:
    text = (DOCS / "protocols.md").read_text("utf-8")
    found = list(_EXAMPLE.finditer(text))
    out = []
    for i, match in enumerate(found):
        end = found[i + 1].start() if i + 1 < len(found) else len(text)
        out.append({**match.groupdict(), "expect": _EXPECT.findall(text, match.end(), end)})
    return out


EXAMPLES = examples()


def _protocol_text(example: dict) -> str:
    if not example["copy"]:
        return example["yaml"]
    base = resources.files("cnotrack.protocols").joinpath(f"builtin/{example['copy']}.yaml").read_text("utf-8")
    data = yaml.safe_load(base)
    data.update(yaml.safe_load(example["yaml"]))
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _matches(actual, written: str) -> bool:
    if written == "none":
        return actual is None
    if "/" in written:
        n, of = (int(x) for x in written.split("/"))
        return isinstance(actual, dict) and (actual["n"], actual["of"]) == (n, of)
    if isinstance(actual, bool) or actual is None or isinstance(actual, dict):
        return False
    decimals = max(len(written.split(".")[1]) if "." in written else 0, 6)  # 6 decimals at least
    return abs(float(actual) - float(written)) <= 0.5 * 10 ** -decimals + 1e-12


def _dig(node, path: list[str]):
    for part in path:
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def _endpoint_value(endpoints: dict, left: str):
    """The endpoint of the longest id that ``left`` starts with, then the keys after it."""
    for eid in sorted(endpoints, key=len, reverse=True):
        if left == eid or left.startswith(eid + "."):
            rest = left[len(eid) + 1:]
            return _dig(endpoints[eid], rest.split(".") if rest else [])
    raise AssertionError(f"no endpoint for {left!r} (endpoints: {', '.join(endpoints)})")


def _comparison_value(comparisons: dict, left: str):
    match = re.fullmatch(r"compare (\S+): (\S+) (?:\[(\S+?)\](?:\.(\S+))?|(test\.\S+))", left)
    assert match, left
    key, eid, group, after, test = match.groups()
    entry = comparisons[key]["endpoints"][eid]
    if test:
        return _dig(entry, test.split("."))
    value = entry["groups"][group]
    return _dig(value, after.split(".")) if after else value


def test_the_protocol_docs_have_a_worked_example_of_each_new_construct() -> None:
    names = [e["name"] for e in EXAMPLES]
    assert {"copied_pardeo2017", "girls_of_rome", "spine", "pain_change", "time_to_stop", "by_sex",
            "tnf_without_bisphosphonate", "time_to_second_line", "time_to_second_line_first",
            "by_bisphosphonate", "age_at_index"} <= set(names)
    assert len(names) == len(set(names))
    assert all(e["expect"] for e in EXAMPLES)


@pytest.mark.parametrize("example", EXAMPLES, ids=[e["name"] for e in EXAMPLES])
def test_a_worked_example_of_the_protocol_docs_gives_its_numbers(example: dict, tmp_path: Path) -> None:
    path = tmp_path / f"{example['name']}.yaml"
    path.write_text(_protocol_text(example), "utf-8")
    protocol, warnings = load_protocol_with_warnings(path)
    evaluation = evaluate(cnotrack.load_dataset(FIXTURES[example["fixture"]]), protocol, statistics=False)
    body = evaluation.as_json(detail=False)
    for expectation in example["expect"]:
        left, written = (part.strip() for part in expectation.rsplit("=", 1))
        if left == "warnings":
            assert len(warnings) == int(written), warnings
            continue
        if left == "published":
            assert written == "none" and [e.id for e in protocol.endpoints if e.published] == []
            continue
        actual = _comparison_value(body["comparisons"], left) if left.startswith("compare ") else \
            _endpoint_value(body["endpoints"], left)
        assert _matches(actual, written), (expectation, actual)
