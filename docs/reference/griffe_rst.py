"""A Griffe extension: the reST in the packages' docstrings, as Markdown for the API reference.

The docstrings are written for ``help()`` and editors, with a few reST habits that
Markdown does not share. mkdocs.yml loads this file (mkdocstrings' ``extensions``
option); it changes what the reference pages show, never the sources:

- roles (``:class:`~maintenance_core.MaintenanceConfig```, ``:mod:`.backends```)
  become code spans of the name they show (``MaintenanceConfig``, ``backends``);
- a paragraph ending in ``::`` introduces the indented block after it, which
  becomes a fenced Python block;
- a title underlined with ``---`` or ``===`` becomes a bold line, not a page heading;
- a simple table (rows between ``===  ===`` rules) is kept as preformatted text.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:py:)?[a-z]+:`(~?)([^`<]*?)(?:\s*<([^`>]+)>)?`")
_UNDERLINE = re.compile(r"^(-{3,}|={3,})\s*$")
_TABLE_RULE = re.compile(r"^=+(\s+=+)+\s*$")


def _role(match: re.Match[str]) -> str:
    short, text, target = match.groups()
    if target is not None:  # :role:`title <target>`
        return f"`{text.strip()}`"
    name = text.strip().lstrip(".")
    if short:
        name = name.rsplit(".", 1)[-1]
    return f"`{name}`"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def rst_to_markdown(text: str) -> str:
    """Return *text* (a docstring) with its reST habits written as Markdown."""
    text = _ROLE.sub(_role, text)
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        # A table between "===  ===" rules: keep it as it is written.
        if _TABLE_RULE.match(stripped):
            j = i
            while j < len(lines) and lines[j].strip():
                j += 1
            base = _indent(line)
            out.append(" " * base + "```text")
            out.extend(lines[i:j])
            out.append(" " * base + "```")
            i = j
            continue
        # A title underlined with --- or ===.
        if (
            stripped
            and i + 1 < len(lines)
            and _UNDERLINE.match(lines[i + 1].strip())
            and len(lines[i + 1].strip()) >= len(stripped)
        ):
            out.append(" " * _indent(line) + f"**{stripped}**")
            i += 2
            continue
        # A literal block introduced by "::".
        if stripped.endswith("::"):
            base = _indent(line)
            intro = stripped[:-2].rstrip()
            if intro:
                out.append(" " * base + intro + ":")
            j = i + 1
            while j < len(lines) and not lines[j].strip():
                j += 1
            block: list[str] = []
            while j < len(lines) and (not lines[j].strip() or _indent(lines[j]) > base):
                block.append(lines[j])
                j += 1
            while block and not block[-1].strip():
                block.pop()
            if block:
                inner = min(_indent(b) for b in block if b.strip())
                if out and out[-1].strip():
                    out.append("")
                out.append(" " * base + "```python")
                out.extend(" " * base + b[inner:] if b.strip() else "" for b in block)
                out.append(" " * base + "```")
                out.append("")
                i = j
                continue
            i += 1
            continue
        out.append(line)
        i += 1
    return "\n".join(out)


def _convert(obj: griffe.Object, seen: set[int]) -> None:
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if obj.docstring is not None:
        obj.docstring.value = rst_to_markdown(obj.docstring.value)
    for member in obj.members.values():
        if not member.is_alias:
            _convert(member, seen)  # type: ignore[arg-type]


class RstDocstrings(griffe.Extension):
    """Rewrite every docstring of a package once Griffe has loaded all of it."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        _convert(pkg, set())
