"""The README's examples are the real output; every command is documented; the API is pinned."""

from __future__ import annotations

import doctest
import json
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

import backmice
from backmice.cli import app

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
EXAMPLE = re.compile(
    r"<!-- example: (?P<cmd>.+?) -->\n```\w*\n(?P<out>.*?)\n```\n<!-- end example -->", re.S)


@pytest.mark.parametrize("match", list(EXAMPLE.finditer(README)), ids=lambda m: m["cmd"])
def test_readme_example_is_the_real_output(match, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(app, shlex.split(match["cmd"]))
    assert result.exit_code == 0, result.output
    assert result.output.rstrip("\n") == match["out"], (
        "README example is stale: regenerate it with `backmice " + match["cmd"] + "`")


def test_readme_has_examples():
    assert len(EXAMPLE.findall(README)) >= 2


def test_every_command_is_documented():
    names = [c.name or c.callback.__name__ for c in app.registered_commands]
    for group in app.registered_groups:
        names += [f"{group.name} {c.name}" for c in group.typer_instance.registered_commands]
    for name in names:
        assert f"backmice {name}" in README, f"`backmice {name}` is not in the README"


@pytest.mark.parametrize("path", sorted((ROOT / "examples").glob("*.json")), ids=lambda p: p.name)
def test_examples_assess(path):
    result = CliRunner().invoke(app, ["assess", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["format"] == "backmice.assessment"


def test_public_api_is_pinned_and_sorted():
    assert backmice.__all__ == sorted(backmice.__all__, key=lambda n: (not n.isupper(), n))
    assert set(backmice.__all__) == {
        "ENGINE_VERSION", "FINDINGS", "Assessment", "BackmiceError", "CaseFormatError",
        "FindingSet", "InputError", "KnowledgeBase", "KnowledgeBaseError", "LumpInput",
        "PatientAssessment", "PatientInput", "__version__", "assess", "assess_patient",
        "default_kb", "load_kb", "parse_findings", "read_case", "read_document",
    }


def test_package_docstring_examples_run():
    failures, _ = doctest.testmod(backmice)
    assert failures == 0


def test_compact_json_bytes_equal_the_document(kb):
    from backmice.engine import assess_patient
    from backmice.interop.cases import read_document
    from backmice.render.json_doc import from_data, to_data, to_json_bytes

    for example in sorted((ROOT / "examples").glob("*.json")):
        patient, _ = read_document(example.read_text())
        result = assess_patient(kb, patient)
        assert json.loads(to_json_bytes(result)) == to_data(result)
        assert from_data(to_data(result)) == result
