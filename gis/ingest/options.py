"""How to read a file when its own shape does not say: the options of the CLI and the upload API."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from gis.errors import invalid
from gis.ingest.mapping import ColumnMapping

DELIMITERS = {",": ",", ";": ";", "\\t": "\t", "\t": "\t", "tab": "\t", "|": "|"}


@dataclass(frozen=True)
class ReadOptions:
    crs: str | None = None
    source_layer: str | None = None
    sheet: str | None = None
    delimiter: str | None = None  # None: detected among , ; tab
    encoding: str | None = None  # None: UTF-8 (with or without BOM), else detected
    decimal: str | None = None  # None: detected; "." or ","
    dayfirst: bool | None = None  # None: decided per column where the values allow
    mapping: ColumnMapping | None = None

    def __post_init__(self) -> None:
        if self.delimiter is not None and self.delimiter not in DELIMITERS:
            raise invalid(f"delimiter `{self.delimiter}`: use , or ; or tab")
        if self.decimal is not None and self.decimal not in (".", ","):
            raise invalid(f"decimal `{self.decimal}`: use . or ,")

    @property
    def delimiter_char(self) -> str | None:
        return DELIMITERS[self.delimiter] if self.delimiter is not None else None

    def with_mapping_defaults(self) -> ReadOptions:
        """Options the mapping's [read] table gives, where the caller gave none."""
        if self.mapping is None or not self.mapping.read:
            return self
        given = {k: v for k, v in self.mapping.read.items() if getattr(self, k) is None}
        return dataclasses.replace(self, **given)  # type: ignore[arg-type]
