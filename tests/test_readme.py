"""README.md stays in step with the code: every setting with its default, every CLI command."""

from __future__ import annotations

import re
from pathlib import Path

import click
import typer

from noroshi.cli import app
from noroshi.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", README, flags=re.S | re.M)
    assert match is not None, f"README has no '## {title}' section"
    return match.group(1)


def _shown_default(value: object) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float) and value.is_integer():
        return f"`{int(value)}`"
    return f"`{value}`"


def test_the_settings_table_lists_every_setting_with_its_default() -> None:
    rows = {}
    for line in _section("Settings").splitlines():
        cells = [c.strip() for c in line.strip("|").split(" | ")]
        if line.startswith("| `NOROSHI_"):
            rows[cells[0].strip("`")] = cells[1]
    expected = {
        f"NOROSHI_{name.upper()}": _shown_default(f.default) for name, f in Settings.model_fields.items()
    }
    assert rows == expected


def _command_paths(group: click.Command, prefix: str = "noroshi") -> list[str]:
    paths = []
    for name, command in getattr(group, "commands", {}).items():
        if getattr(command, "commands", None):
            paths += _command_paths(command, f"{prefix} {name}")
        else:
            paths.append(f"{prefix} {name}")
    return paths


def test_the_command_line_table_names_every_command() -> None:
    table = _section("Command line")
    paths = _command_paths(typer.main.get_command(app))
    assert len(paths) >= 14  # 7 commands and 7 in the db, keys, buckets, brands groups
    missing = [p for p in paths if f"`{p}" not in table]
    assert missing == []
