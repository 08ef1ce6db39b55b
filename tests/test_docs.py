"""Tests that keep the documentation honest."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import typer

from cnotrack.cli import app

ROOT = Path(__file__).resolve().parent.parent


def _load_reference_script():
    spec = importlib.util.spec_from_file_location("cli_reference", ROOT / "scripts" / "cli_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _command_paths(command, path):
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from _command_paths(sub, [*path, name])
    else:
        yield " ".join(path)


def test_the_cli_reference_is_generated_from_the_current_help():
    expected = _load_reference_script().reference()
    actual = (ROOT / "docs" / "cli.md").read_text("utf-8")
    assert actual == expected, "docs/cli.md is stale: run `python scripts/cli_reference.py`"


def test_every_command_and_option_has_help_text():
    for path in _command_paths(typer.main.get_command(app), ["cnotrack"]):
        assert path  # walked
    root = typer.main.get_command(app)

    def walk(command):
        if hasattr(command, "commands"):
            for sub in command.commands.values():
                yield from walk(sub)
        else:
            yield command

    for command in walk(root):
        assert command.help, f"{command.name} has no help"
        for param in command.params:
            if param.name != "help":
                assert getattr(param, "help", None), f"{command.name} {param.name} has no help"


def test_the_readme_gives_the_two_set_up_commands_demo_first():
    readme = (ROOT / "README.md").read_text("utf-8")
    assert readme.index("make demo") < readme.index("make test")


def test_every_doc_the_readme_links_to_exists():
    readme = (ROOT / "README.md").read_text("utf-8")
    for link in re.findall(r"\]\(([^)#]+)\)", readme):
        if not link.startswith("http"):
            assert (ROOT / link).exists(), link


def test_the_changelog_follows_keep_a_changelog():
    text = (ROOT / "CHANGELOG.md").read_text("utf-8")
    assert "## [Unreleased]" in text and "### Added" in text
