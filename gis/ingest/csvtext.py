"""CSV as people write it: the encoding (UTF-8 with or without BOM, UTF-16, or detected), the
delimiter (`,` `;` tab) and the decimal mark, each reported so a data manager can check them."""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

import charset_normalizer
import pandas as pd

from gis.errors import invalid
from gis.ingest.options import ReadOptions
from gis.ingest.values import decimal_of

# What spreadsheets in the region save as "CSV" when not UTF-8: Turkish/Azerbaijani Latin,
# Cyrillic, Western European.
LEGACY_ENCODINGS = ["cp1254", "cp1251", "cp1252", "iso8859_9", "koi8_r"]
CANDIDATE_DELIMITERS = (",", ";", "\t")
NAMES = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}
SNIFF_LINES = 50


def read_csv_table(path: Path, options: ReadOptions) -> tuple[pd.DataFrame, dict[str, object]]:
    """The file's cells as text (header row as column names) and what was detected."""
    data = path.read_bytes()
    text, encoding = decode(data, options.encoding, path.name)
    delimiter = options.delimiter_char or detect_delimiter(text)
    try:
        table = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            dtype=str,
            keep_default_na=False,
            engine="c",
            skip_blank_lines=False,  # blank lines are dropped later, keeping the line numbers
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise invalid(
            f"'{path.name}' could not be read as CSV ({NAMES.get(delimiter, delimiter)}-delimited, "
            f"{encoding}): {str(exc).splitlines()[0][:200]}"
        ) from exc
    sample = table.head(500).to_numpy().ravel().tolist()
    decimal = options.decimal or decimal_of(sample)
    detected: dict[str, object] = {
        "format": "CSV",
        "encoding": encoding,
        "delimiter": NAMES.get(delimiter, delimiter),
        "decimal": decimal,
    }
    return table, detected


def decode(data: bytes, encoding: str | None, name: str) -> tuple[str, str]:
    """The text and the name of the encoding used ('detected' when it was guessed)."""
    if encoding:
        try:
            codec = codecs.lookup(encoding)
        except LookupError:
            raise invalid(f"unknown encoding `{encoding}` (e.g. utf-8, cp1254, cp1251)") from None
        try:
            text = data.decode(codec.name)
        except UnicodeDecodeError as exc:
            raise invalid(
                f"'{name}' is not valid {encoding}: byte {data[exc.start : exc.start + 1]!r} at "
                f"offset {exc.start} cannot be read; check the encoding"
            ) from None
        return text.removeprefix("\ufeff"), f"{codec.name} (given)"
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[3:].decode("utf-8"), "UTF-8 with BOM"
        except UnicodeDecodeError:
            pass  # a BOM on a file that is not UTF-8 after all: detect
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16").removeprefix("\ufeff"), "UTF-16"
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data, cp_isolation=LEGACY_ENCODINGS).best()
    if best is None:
        raise invalid(
            f"'{name}' is neither UTF-8 nor a Windows code page that could be recognised: "
            "say its encoding with --encoding (e.g. cp1254, cp1251)"
        )
    label = {"cp1254": "Windows-1254", "cp1251": "Windows-1251", "cp1252": "Windows-1252"}
    return str(best), f"{label.get(best.encoding, best.encoding)} (detected)"


def detect_delimiter(text: str) -> str:
    """The candidate that splits the first lines into the same number (> 1) of fields, the most
    fields winning; a comma if none does."""
    head = "\n".join(text.splitlines()[:SNIFF_LINES])
    best, best_width = ",", 1
    for candidate in CANDIDATE_DELIMITERS:
        try:
            widths = [len(r) for r in csv.reader(io.StringIO(head), delimiter=candidate) if r]
        except csv.Error:
            continue
        if not widths:
            continue
        header = widths[0]
        consistent = sum(w == header for w in widths) >= max(1, len(widths) * 0.9)
        if consistent and header > best_width:
            best, best_width = candidate, header
    return best
