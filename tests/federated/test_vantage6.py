"""cnotrack's vantage6 algorithm (cnotrack.federated.vantage6) run with vantage6's own
MockAlgorithmClient over three centres, against the file route and the pooled evaluation."""

from __future__ import annotations

import base64
import json
import os
import re
import sys
from pathlib import Path

import pandas as pd
import pytest

from cnotrack.cli import main
from cnotrack.errors import CnotrackError
from cnotrack.federated import centre_aggregates, combine, is_suppressed, read_aggregates, validate_aggregates
from cnotrack.federated.vantage6 import SOURCE_FILE, NodeError
from cnotrack.federated.vantage6.node import open_source
from vantage6.algorithm.tools.mock_client import MockAlgorithmClient

from .centres import three_centres

MODULE = "cnotrack.federated.vantage6"
# numbers that are parameters of the file, not counts of patients (bin widths and positions, the
# times of the survival estimates, the threshold itself)
PARAMETERS = {"bin_width", "first_bin", "times_years", "time_days", "min_cell_count"}


@pytest.fixture(autouse=True)
def outside_a_node(monkeypatch):
    """No node settings from the environment the tests run in (the tests set their own)."""
    for name in ("CNOTRACK_MIN_CELL_COUNT", "CNOTRACK_CENTRE", "CNOTRACK_ALLOWED_PROTOCOLS",
                 "USER_REQUESTED_DATABASE_LABELS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def centres(tmp_path_factory):
    return three_centres(tmp_path_factory.mktemp("centres"))


def source_csvs(folder: Path, centres, **extra) -> list[Path]:
    """Each centre's node source table (cnotrack-source.csv) naming its database or folder."""
    paths = []
    for c in centres.centres:
        node = folder / c.name.replace(" ", "-").lower()
        node.mkdir(parents=True, exist_ok=True)
        row = {"source": c.source, "centre": c.name} | extra.get(c.name, {})
        pd.DataFrame([row]).to_csv(node / SOURCE_FILE, index=False)
        paths.append(node / SOURCE_FILE)
    return paths


def mock_network(csvs: list[Path]) -> MockAlgorithmClient:
    return MockAlgorithmClient(datasets=[[{"database": str(p), "db_type": "csv"}] for p in csvs], module=MODULE)


def run_central(client: MockAlgorithmClient, **kwargs) -> dict:
    task = client.task.create(input_={"method": "central", "kwargs": kwargs}, organizations=[0])
    [result] = client.wait_for_results(task["id"])
    return result


def cli(monkeypatch, capsys, *args) -> str:
    monkeypatch.setattr(sys, "argv", ["cnotrack", *map(str, args)])
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit) as info:
        main()
    captured = capsys.readouterr()
    assert info.value.code in (0, None), captured.err
    return captured.out


def without_files(combined: dict) -> dict:
    """A combined result without where each centre's document came from (a file's path, a result's number)."""
    return combined | {"centres": [{k: v for k, v in c.items() if k != "file"} for c in combined["centres"]]}


def leaves(value, path=()):
    if isinstance(value, dict):
        if is_suppressed(value):
            return
        for k, v in value.items():
            yield from leaves(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from leaves(v, path + (i,))
    else:
        yield path, value


def small_cells(document: dict) -> list[tuple]:
    """Every published number 0 < v < the document's threshold that is not a parameter."""
    threshold = document["disclosure"]["min_cell_count"]
    found = []
    for path, v in leaves(document):
        if isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v < threshold:
            if not PARAMETERS & {p for p in path if isinstance(p, str)} and path[0] != "bins":
                found.append((path, v))
    return found


def test_three_centres_combine_by_files_and_through_vantage6_to_the_same_and_the_pooled_result(
        centres, tmp_path, monkeypatch, capsys):
    a, b, c = centres.centres
    assert len(a.patient_ids) > len(b.patient_ids) > len(c.patient_ids) > 0
    assert c.eligible == 0 and b.eligible > 0

    # (a) the file route: each centre runs `cnotrack evaluate --aggregates`, the coordinator `cnotrack combine`
    files = []
    for centre in centres.centres:
        out = tmp_path / f"{centre.name.split()[-1]}.json"
        where = ["--db", f"sqlite:///{centre.source}"] if centre.source.endswith(".sqlite") else [centre.source]
        cli(monkeypatch, capsys, "evaluate", *where, "--protocol", "pardeo2017", "--aggregates", out,
            "--centre", centre.name)
        files.append(out)
    by_files = json.loads(cli(monkeypatch, capsys, "combine", *files, "--format", "json"))

    # (b) vantage6: the central function over three organizations, each node reading its own source
    result = run_central(mock_network(source_csvs(tmp_path / "nodes", centres)), protocol="pardeo2017",
                         organizations=[0, 1, 2])
    assert result["format"] == "cnotrack-vantage6-result" and result["organizations"] == [0, 1, 2]
    through_vantage6 = result["combined"]

    assert without_files(through_vantage6) == without_files(by_files)
    assert result["centres"] == [read_aggregates(f) for f in files]
    shown = {x["name"]: x for x in through_vantage6["centres"]}
    assert shown["Centre C"]["n"] == 0
    assert shown["Centre B"]["suppressed"] > 0 and shown["Centre B"]["min_cell_count"] == 5
    assert shown["Centre A"]["n"] + shown["Centre B"]["n"] == centres.pooled_evaluation.n

    # where the statistic is exact and computable after suppression, it is the pooled rows' statistic
    pooled = centres.pooled_evaluation
    assert through_vantage6["cohort"]["n"] == pooled.n
    compared, kinds = 0, set()
    for eid, endpoint in through_vantage6["endpoints"].items():
        if not endpoint["exact"] or endpoint.get("pooled") is None:
            continue
        expected = pooled.endpoints[eid].as_json()
        if endpoint["kind"] == "count":
            assert endpoint["pooled"]["value"] == expected, eid
        else:
            got = endpoint["pooled"]
            assert (got["n"], got["of"]) == (expected["n"], expected["of"]), eid
            assert got["missing"] in (expected["missing"], None), eid    # None: a centre's missing cell is suppressed
            assert got["ci95"] == pytest.approx(expected["ci95"], abs=1e-9), eid
        compared += 1
        kinds.add(endpoint["kind"])
    assert compared >= 6 and kinds == {"count", "proportion"}
    # and where a centre's cell is suppressed the pooled value is not given rather than guessed
    hidden = [e for e in through_vantage6["endpoints"].values() if e["exact"] and e.get("pooled") is None]
    assert hidden and all("suppressed" in e["note"] for e in hidden)


def test_no_vantage6_result_holds_a_patient_id_a_date_or_a_small_cell(centres, tmp_path):
    client = mock_network(source_csvs(tmp_path, centres))
    task = client.task.create(input_={"method": "partial", "kwargs": {"protocol": "pardeo2017"}},
                              organizations=[0, 1, 2])
    run_central(client, protocol="pardeo2017", organizations=[0, 1, 2])
    stored = [r["result"] for r in client.results]          # the JSON strings the mock keeps, as a server would
    assert len(stored) == 4
    patient_ids = centres.pooled.patients["patient_id"].to_list()
    dates = re.compile(r"\b(19|20)\d\d-[01]\d-[0-3]\d")
    for text in stored:
        assert not [p for p in patient_ids if p in text]
        assert not dates.search(text)
    documents = client.wait_for_results(task["id"])
    documents += client.wait_for_results(len(client.tasks))[0]["centres"]
    for document in documents:
        validate_aggregates(document)
        assert document["disclosure"]["min_cell_count"] == 5
        assert small_cells(document) == [], document["centre"]
    assert sum(d["disclosure"]["suppressed"] for d in documents) > 0


def test_a_task_cannot_lower_a_centres_threshold(centres, tmp_path):
    csvs = source_csvs(tmp_path, centres, **{"Centre B": {"min_cell_count": 8}})
    lowered = run_central(mock_network(csvs), min_cell_count=2, organizations=[0, 1, 2])
    applied = {c["name"]: c["min_cell_count"] for c in lowered["combined"]["centres"]}
    assert applied == {"Centre A": 5, "Centre B": 8, "Centre C": 5}
    assert lowered["requested_min_cell_count"] == 2
    assert all(small_cells(d) == [] for d in lowered["centres"])
    raised = run_central(mock_network(csvs), min_cell_count=10, organizations=[0, 1, 2])
    assert {c["min_cell_count"] for c in raised["combined"]["centres"]} == {10}
    # a stricter threshold hides more: the request is applied, not ignored
    assert raised["centres"][0]["disclosure"]["suppressed"] > lowered["centres"][0]["disclosure"]["suppressed"]


def node_encoded(value) -> str:
    """A value as a vantage6 4.x node passes it to the algorithm's container (the node's
    ``DockerTaskManager._encode_environment_variables``: base32, '=' replaced)."""
    from vantage6.common.globals import ENV_VAR_EQUALS_REPLACEMENT, STRING_ENCODING

    encoded = base64.b32encode(str(value).encode(STRING_ENCODING)).decode(STRING_ENCODING)
    return encoded.replace("=", ENV_VAR_EQUALS_REPLACEMENT)


@pytest.fixture
def node_environment(monkeypatch):
    """The wrapper decodes every variable of ``os.environ`` in place: all of it is restored after."""
    saved = dict(os.environ)
    yield monkeypatch
    os.environ.clear()
    os.environ.update(saved)


def test_partial_runs_as_a_node_runs_it_from_the_node_environment(centres, tmp_path, node_environment, capsys):
    """vantage6's own wrapper (what the image's CMD runs) with the variables a 4.x node sets."""
    from vantage6.algorithm.tools.wrap import wrap_algorithm

    monkeypatch = node_environment

    centre_b = centres.centres[1]
    data = tmp_path / "data"
    data.mkdir()
    pd.DataFrame([{"source": "cnotrack_db", "centre": "Centre B"}]).to_csv(data / "cnotrack.csv", index=False)
    (data / "input").write_text(json.dumps({"method": "partial", "kwargs": {"protocol": "pardeo2017",
                                                                           "min_cell_count": 3}}))
    for name, value in {"PKG_NAME": MODULE, "INPUT_FILE": data / "input", "OUTPUT_FILE": data / "output",
                        "USER_REQUESTED_DATABASE_LABELS": "cnotrack",
                        "CNOTRACK_DATABASE_URI": data / "cnotrack.csv", "CNOTRACK_DATABASE_TYPE": "csv",
                        "CNOTRACK_DB_DATABASE_URI": centre_b.source, "CNOTRACK_DB_DATABASE_TYPE": "other",
                        "CNOTRACK_DB_PARAM_MIN_CELL_COUNT": "7"}.items():
        # the node encodes every value it sets; PKG_NAME is the image's own (Dockerfile ENV)
        monkeypatch.setenv(name, str(value) if name == "PKG_NAME" else node_encoded(value))
    wrap_algorithm()
    document = json.loads((data / "output").read_text())
    validate_aggregates(document)
    assert document["centre"] == "Centre B" and document["disclosure"]["min_cell_count"] == 7
    expected = centre_aggregates(open_source(centre_b.source), centres.protocol, min_cell_count=7, centre="Centre B")
    assert document == expected
    assert combine([document]).cohort["n"] == centre_b.eligible

    # the node's algorithm_env raises it further; a value that is not a count is refused by name
    monkeypatch.setenv("CNOTRACK_MIN_CELL_COUNT", node_encoded(11))
    wrap_algorithm()
    assert json.loads((data / "output").read_text())["disclosure"]["min_cell_count"] == 11
    monkeypatch.setenv("CNOTRACK_MIN_CELL_COUNT", node_encoded("five"))
    capsys.readouterr()
    with pytest.raises(SystemExit):
        wrap_algorithm()
    assert "CNOTRACK_MIN_CELL_COUNT (the node's algorithm_env): 'five' is not a whole number" in capsys.readouterr().out


def test_a_task_cannot_choose_what_the_node_reads(centres, tmp_path):
    client = mock_network(source_csvs(tmp_path, centres))
    for kwargs, message in (({"protocol": "/etc/passwd"}, "not a built-in protocol"),
                            ({"protocol": "../../data/cnotrack.sqlite"}, "not a built-in protocol"),
                            ({"organizations": [0, 0]}, "named twice"),
                            ({"organizations": []}, "non-empty list"),
                            ({"min_cell_count": -1}, "whole number")):
        with pytest.raises(NodeError, match=message):
            run_central(client, **kwargs)
    with pytest.raises(TypeError, match="source"):
        client.task.create(input_={"method": "partial", "kwargs": {"source": centres.centres[0].source}},
                           organizations=[0])
    # the node's own source table: a relative path or a missing column is named with its fix
    for row, message in (({"source": "centre-a.sqlite"}, "neither a database label"),
                         ({"database": "x"}, "no column 'source'")):
        pd.DataFrame([row]).to_csv(tmp_path / "bad.csv", index=False)
        with pytest.raises(NodeError, match=message):
            run_central(MockAlgorithmClient([[{"database": str(tmp_path / "bad.csv"), "db_type": "csv"}]], MODULE),
                        organizations=[0])
    assert issubclass(NodeError, CnotrackError)


def test_the_node_image_runs_the_wrapper_on_this_module():
    """The container build file (Docker cannot run here): its entry point and module import."""
    import importlib

    root = Path(__file__).resolve().parents[2]
    text = (root / "src/cnotrack/federated/vantage6/Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim$", text, re.M)
    package = re.search(r"PKG_NAME=(\S+)", text).group(1)
    module = importlib.import_module(package)
    assert callable(module.central) and callable(module.partial)
    assert module.central.wrapped_in_algorithm_client_decorator and module.partial.wrapped_in_data_decorator
    command = json.loads(re.search(r"^CMD (\[.*\])$", text, re.M).group(1))
    assert command[:2] == ["python", "-c"]
    namespace: dict = {}
    exec(command[2].split(";")[0], namespace)          # the import half of the command
    assert callable(namespace["wrap_algorithm"])
    for copied in re.findall(r"^COPY (.+) \S+$", text, re.M):
        assert all((root / p).exists() for p in copied.split()), copied
    assert 'pip install ".[federated]"' in text and "federated = [" in (root / "pyproject.toml").read_text()


def test_a_centre_runs_a_protocol_sent_as_yaml_only_when_it_agreed_to(centres, tmp_path, monkeypatch):
    from importlib import resources

    from cnotrack.errors import ProtocolError
    from cnotrack.federated import protocol_definition_sha256

    def partial_at_centre_c(**kwargs) -> dict:
        task = client.task.create(input_={"method": "partial", "kwargs": kwargs}, organizations=[2])
        return client.wait_for_results(task["id"])[0]

    client = mock_network(source_csvs(tmp_path, centres))
    text = resources.files("cnotrack.protocols").joinpath("builtin/pardeo2017.yaml").read_text("utf-8")
    digest = protocol_definition_sha256(centres.protocol)
    with pytest.raises(NodeError, match=f"only the built-in protocols.*{digest}"):
        partial_at_centre_c(protocol_yaml=text)
    monkeypatch.setenv("CNOTRACK_ALLOWED_PROTOCOLS", digest)        # the node's algorithm_env
    assert partial_at_centre_c(protocol_yaml=text)["protocol"]["definition_sha256"] == digest
    with pytest.raises(NodeError, match="not in this centre's CNOTRACK_ALLOWED_PROTOCOLS"):
        partial_at_centre_c(protocol="pedcno")
    monkeypatch.setenv("CNOTRACK_ALLOWED_PROTOCOLS", "pardeo2017, bisphosphonate_wbmri")
    assert partial_at_centre_c(protocol_yaml=text)["protocol"]["definition_sha256"] == digest   # the same definition
    with pytest.raises(ProtocolError, match="protocol_yaml"):
        partial_at_centre_c(protocol_yaml="id: [unclosed")


@pytest.mark.postgres
def test_partial_reads_a_centre_kept_in_postgresql(centres, tmp_path, postgres_url):
    from cnotrack.store import import_dataset, open_store

    centre_b = centres.centres[1]
    dataset = open_source(centre_b.source)
    with open_store(postgres_url) as store:
        import_dataset(dataset, store)
    pd.DataFrame([{"source": postgres_url, "centre": "Centre B"}]).to_csv(tmp_path / SOURCE_FILE, index=False)
    client = MockAlgorithmClient([[{"database": str(tmp_path / SOURCE_FILE), "db_type": "csv"}]], MODULE)
    task = client.task.create(input_={"method": "partial", "kwargs": {}}, organizations=[0])
    [document] = client.wait_for_results(task["id"])
    assert document == centre_aggregates(dataset, centres.protocol, centre="Centre B")
    assert postgres_url.split("@")[-1] not in json.dumps(document)      # the result does not name the server
