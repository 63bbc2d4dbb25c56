"""CSV export of a report table: the same columns and rows the JSON API serves, for spreadsheets and BI tools.

Why a module: the CSV must say exactly what the JSON says (tests compare them), so it is written from the same
:class:`~services.metrics.report.Table`; and a cell a spreadsheet would run as a formula (``=``, ``+``, ``-``,
``@`` at the start of text) is prefixed with a quote, since intents and article titles come from editable files.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from services.metrics.report import Table

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    """A value as written: empty for None, text guarded against spreadsheet formulas, numbers unchanged."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([cell(v) for v in row])
    return out.getvalue()
