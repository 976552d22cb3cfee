"""Maps on paper: Chromium prints the page to PDF, poppler rasterises it (pdftoppm) and reads its
text (pdftotext), so a test sees what the sheet shows, not what the DOM claims."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from playwright.sync_api import Page

# The print stylesheet's margin (gis/maps/map.css, @page) and the raster's resolution: at 96 dpi
# one CSS pixel is one raster pixel.
MARGIN_MM = 10
DPI = 96
MARGIN_PX = MARGIN_MM / 25.4 * DPI
A4_MM = (210, 297)
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "prints"


@dataclass(frozen=True)
class Sheet:
    """Page 1 of a printed map, as RGB pixels, and the whole document's text."""

    pixels: np.ndarray  # height × width × 3
    text: str
    pages: int


def print_to_pdf(page: Page, path: Path, *, landscape: bool) -> Sheet:
    page.pdf(
        path=str(path),
        format="A4",
        landscape=landscape,
        print_background=True,
        margin={side: f"{MARGIN_MM}mm" for side in ("top", "right", "bottom", "left")},
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, ARTIFACTS / path.name)  # to look at; the checks read the copy in tmp
    prefix = path.with_suffix("")
    subprocess.run(
        ["pdftoppm", "-r", str(DPI), "-f", "1", "-l", "1", str(path), str(prefix)],
        check=True,
        timeout=60,
    )
    raster = next(path.parent.glob(f"{prefix.name}-*1.ppm"))
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"],
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    ).stdout
    info = subprocess.run(
        ["pdfinfo", str(path)], check=True, timeout=60, capture_output=True, text=True
    ).stdout
    pages = int(next(line for line in info.splitlines() if line.startswith("Pages:")).split()[1])
    return Sheet(read_ppm(raster), text, pages)


def read_ppm(path: Path) -> np.ndarray:
    """A binary PPM (P6, 8 bits), as pdftoppm writes it."""
    data = path.read_bytes()
    fields: list[bytes] = []
    at = 0
    while len(fields) < 4:  # magic, width, height, maxval; whitespace-separated
        while data[at : at + 1].isspace():
            at += 1
        start = at
        while not data[at : at + 1].isspace():
            at += 1
        fields.append(data[start:at])
    assert fields[0] == b"P6" and fields[3] == b"255", fields
    width, height = int(fields[1]), int(fields[2])
    body = data[at + 1 : at + 1 + width * height * 3]
    return np.frombuffer(body, dtype=np.uint8).reshape(height, width, 3)


def page_px(landscape: bool) -> tuple[float, float]:
    w, h = A4_MM[::-1] if landscape else A4_MM
    return w / 25.4 * DPI, h / 25.4 * DPI
