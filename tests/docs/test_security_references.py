"""SECURITY.md names the tests that prove each guarantee: they must exist."""

from __future__ import annotations

import re

from tests.support.servers import ROOT

REFERENCE = re.compile(r"`(tests/[\w/]+\.py)(?:::(\w+))?`|`::(\w+)`")


def test_every_test_named_in_security_md_exists() -> None:
    text = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    current: str | None = None
    checked = 0
    missing: list[str] = []
    for match in REFERENCE.finditer(text):
        path, name, continued = match.groups()
        if path is not None:
            current = path
            if not (ROOT / path).is_file():
                missing.append(path)
                continue
        assert current is not None, "a `::name` reference comes before any file"
        test = name or continued
        if test is None:
            continue
        source = (ROOT / current).read_text(encoding="utf-8")
        if not re.search(rf"^(async )?def {test}\(", source, re.MULTILINE):
            missing.append(f"{current}::{test}")
        checked += 1
    assert missing == []
    assert checked >= 20  # the file really names tests
