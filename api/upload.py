"""Reading request bodies with a size cap: a JSON body into memory, a multipart file onto disk.

Both stop reading as soon as the cap is passed (413), instead of letting a framework spool a huge
upload to disk first; a declared Content-Length over the cap is refused before reading anything.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import BinaryIO

from fastapi import Request
from python_multipart.multipart import MultipartParser, parse_options_header

from gis.errors import PayloadTooLarge, invalid

MULTIPART_OVERHEAD_BYTES = 64 * 1024  # part headers and boundaries around the file itself
FILE_FIELD = "file"


def _cap_bytes(max_mb: float) -> int:
    return int(max_mb * 1e6)


def _too_large(max_mb: float) -> PayloadTooLarge:
    return PayloadTooLarge(f"the upload is over the {max_mb:g} MB limit")


def _check_declared(request: Request, cap: int, max_mb: float) -> None:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > cap:
        raise _too_large(max_mb)


async def read_body(request: Request, max_mb: float) -> bytes:
    """The whole body, refusing it past `max_mb`."""
    cap = _cap_bytes(max_mb)
    _check_declared(request, cap, max_mb)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > cap:
            raise _too_large(max_mb)
        chunks.append(chunk)
    return b"".join(chunks)


def safe_filename(name: str) -> str:
    """The uploaded file's base name, reduced to harmless characters (its suffix picks the reader)."""
    base = re.split(r"[\\/]", name)[-1]
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", base).strip("._") or "upload"
    stem, dot, suffix = cleaned.rpartition(".")
    return f"{stem[:80]}.{suffix[:10]}" if dot and stem else cleaned[:90]


class _FilePart:
    """Collects one multipart part's headers; writes the 'file' part's bytes to disk."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path: Path | None = None
        self._header_field = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._out: BinaryIO | None = None

    def on_part_begin(self) -> None:
        self._headers = {}

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._header_field.lower()] = self._header_value
        self._header_field, self._header_value = b"", b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename")
        if name == FILE_FIELD and filename is not None and self.path is None:
            self.path = self.folder / safe_filename(filename.decode("utf-8", "replace"))
            self._out = self.path.open("wb")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._out is not None:
            self._out.write(data[start:end])

    def on_part_end(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None

    def close(self) -> None:
        if self._out is not None:
            self._out.close()


async def receive_file(request: Request, folder: Path, max_mb: float) -> Path:
    """Stream the multipart field 'file' into `folder` under its (sanitised) name."""
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if content_type != b"multipart/form-data" or not boundary:
        raise invalid(f"upload the file as multipart/form-data in a field named '{FILE_FIELD}'")
    cap = _cap_bytes(max_mb) + MULTIPART_OVERHEAD_BYTES
    _check_declared(request, cap, max_mb)
    part = _FilePart(folder)
    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": part.on_part_begin,
            "on_header_field": part.on_header_field,
            "on_header_value": part.on_header_value,
            "on_header_end": part.on_header_end,
            "on_headers_finished": part.on_headers_finished,
            "on_part_data": part.on_part_data,
            "on_part_end": part.on_part_end,
        },
    )
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > cap:
                raise _too_large(max_mb)
            parser.write(chunk)
        parser.finalize()
    except ValueError as exc:  # python-multipart's MultipartParseError is a ValueError
        raise invalid(f"the multipart body could not be read: {str(exc)[:200]}") from None
    finally:
        part.close()
    if part.path is None:
        raise invalid(f"no file in the upload: send it in a multipart field named '{FILE_FIELD}'")
    return part.path
