"""Write docs/cli.md from the command line's own help (run: python scripts/cli_reference.py).

A test regenerates the text and compares it with the file, so the reference cannot drift.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from cnotrack.cli import app

HEADER = """# Command-line reference

Generated from `cnotrack --help` by `scripts/cli_reference.py`; a test keeps it current.
Every command is a thin layer over a documented library function. Errors are printed as
`Error: ...` and exit with status 1.
"""


def _params(command) -> list[str]:
    lines = []
    for param in command.params:
        if param.name == "help":
            continue
        if param.param_type_name == "argument":
            name = f"`{param.name.upper()}`"
            help_text = getattr(param, "help", "") or ""
        else:
            name = ", ".join(f"`{o}`" for o in param.opts)
            help_text = param.help or ""
            if param.default not in (None, False) and not param.is_flag:
                default = param.default.value if hasattr(param.default, "value") else param.default
                help_text += f" Default: `{default}`."
        lines.append(f"| {name} | {help_text.strip()} |")
    if not lines:
        return []
    return ["| argument or option | meaning |", "| --- | --- |", *lines, ""]


def _walk(command, path: list[str]) -> list[str]:
    out = []
    if hasattr(command, "commands"):  # a group of commands
        for name in sorted(command.commands):
            out += _walk(command.commands[name], [*path, name])
        return out
    help_text = (command.help or "").strip()
    out += [f"## `{' '.join(path)}`", "", help_text, ""]
    out += _params(command)
    return out


def reference() -> str:
    root = typer.main.get_command(app)
    lines = [HEADER, (root.help or "").strip(), ""]
    lines += _walk(root, ["cnotrack"])
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    target = Path(__file__).resolve().parent.parent / "docs" / "cli.md"
    target.write_text(reference(), "utf-8")
    sys.stdout.write(f"wrote {target}\n")
