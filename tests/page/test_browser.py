"""The page in a real headless Chromium, served by a real uvicorn."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.page.apps.page_app import MESSAGE
from tests.support.servers import uvicorn_server

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _find_browser() -> str | None:
    return next((found for name in BROWSER_NAMES if (found := shutil.which(name))), None)


CHROMIUM = _find_browser()
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WIDTH, HEIGHT = 390, 844


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    with uvicorn_server("tests.page.apps.page_app:app") as url:
        yield url


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    if CHROMIUM is None:
        pytest.fail(
            f"no headless browser on PATH (looked for {', '.join(BROWSER_NAMES)}): install "
            "the Debian package 'chromium' (./scripts/test does it, see scripts/lib.sh)."
        )
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    result = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"chromium failed ({result.returncode}):\n{result.stderr}"
    return result


def _pixels(png: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and unfiltered rows of an 8-bit, non-interlaced RGB/RGBA PNG."""
    pos = len(PNG_SIGNATURE)
    idat = b""
    width = height = channels = 0
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind = png[pos + 4 : pos + 8]
        data = png[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", data)
            assert (depth, interlace) == (8, 0), (depth, interlace)
            channels = {2: 3, 6: 4}[color]
        elif kind == b"IDAT":
            idat += data
        pos += 12 + length
    raw = zlib.decompress(idat)
    stride = width * channels
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind_byte = raw[start]
        row = bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = row[i - channels] if i >= channels else 0
            up = prev[i]
            up_left = prev[i - channels] if i >= channels else 0
            if kind_byte == 1:
                row[i] = (row[i] + left) & 0xFF
            elif kind_byte == 2:
                row[i] = (row[i] + up) & 0xFF
            elif kind_byte == 3:
                row[i] = (row[i] + (left + up) // 2) & 0xFF
            elif kind_byte == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else up_left
                row[i] = (row[i] + pred) & 0xFF
        rows.append(bytes(row))
        prev = row
    return width, height, rows


def test_dump_dom_shows_escaped_page(served: str, tmp_path: Path) -> None:
    dom = _chromium(tmp_path, "--dump-dom", f"{served}/").stdout
    assert '<html lang="en">' in dom
    assert "<main>" in dom
    # The <script> in the title stayed text: no element, and it did not run.
    assert "<script" not in dom.lower()
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in dom
    assert "<title>Back soon &lt;script&gt;" in dom
    assert "<h1>Back soon &lt;script&gt;" in dom
    assert MESSAGE.replace("&", "&amp;") in dom
    assert '<meta http-equiv="refresh" content="300">' in dom
    assert "This page refreshes itself every 300 seconds." in dom


def test_dump_dom_shows_the_end_of_the_window(tmp_path: Path) -> None:
    end = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=3)
    env = {"PAGE_WINDOW_END": end.isoformat()}
    with uvicorn_server("tests.page.apps.page_app:windowed_app", env=env) as url:
        dom = _chromium(tmp_path, "--dump-dom", f"{url}/").stdout
    assert f'Expected back by <time datetime="{end.isoformat()}">' in dom
    assert end.strftime("%H:%M UTC") in dom


def test_screenshot_at_phone_size(served: str, tmp_path: Path) -> None:
    shot = tmp_path / "page.png"
    _chromium(tmp_path, f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}", f"{served}/")
    assert shot.exists(), "chromium wrote no screenshot"
    png = shot.read_bytes()
    assert png.startswith(PNG_SIGNATURE)
    assert len(png) > 2000
    assert png[12:16] == b"IHDR"
    assert struct.unpack(">II", png[16:24]) == (WIDTH, HEIGHT)
    width, height, rows = _pixels(png)
    assert (width, height) == (WIDTH, HEIGHT)
    assert len(set(rows)) > 10, "the screenshot is blank"
