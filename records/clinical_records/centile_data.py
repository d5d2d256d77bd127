"""The growth references' centile lines for the summary's charts, read from a file.

The lines never change: `manage.py build_centile_lines` asks rcpchgrowth for every
reference, measurement and sex once and writes them to data/centile_lines.json (in
the repository); pages read that file, so no request pays for rcpchgrowth's chart
builder (about 1 s a chart, 4 for a summary, when it was computed on a page).
tests/records/clinical_records/test_centile_data.py checks the file against
rcpchgrowth's own output.
"""

import contextlib
import io
import json
from functools import lru_cache
from pathlib import Path

from rcpchgrowth.chart_functions import create_chart

DATA_FILE = Path(__file__).resolve().parent / "data" / "centile_lines.json"
REFERENCES = ("uk-who", "trisomy-21", "turners-syndrome")
METHODS = ("weight", "height", "ofc", "bmi")
SEXES = ("male", "female")


def _key(reference: str, method: str, sex: str) -> str:
    return f"{reference}/{method}/{sex}"


def lines_from_rcpchgrowth(reference: str, method: str, sex: str) -> tuple:
    """rcpchgrowth's centile lines as ((centile, ((age, value), ...)), ...), by
    corrected decimal age (its chart builder; slow: for the build only)."""
    if sex not in SEXES:
        return ()
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            parts = create_chart(reference, measurement_method=method, sex=sex)
        except Exception:  # no such chart (Turner weight, say)
            return ()
    lines: dict[float, list] = {}
    for part in parts or ():
        for by_sex in part.values():
            for line in (by_sex.get(sex) or {}).get(method) or ():
                points = lines.setdefault(float(line["centile"]), [])
                for point in line["data"] or ():
                    if point.get("x") is not None and point.get("y") is not None:
                        points.append((round(point["x"], 4), round(point["y"], 3)))
    return tuple(
        (centile, tuple(sorted(points)))
        for centile, points in sorted(lines.items())
        if points
    )


def build_all() -> dict:
    """Every reference's lines, JSON-ready: {"uk-who/weight/male": [[centile,
    [[age, value], ...]], ...], ...}."""
    return {
        _key(reference, method, sex): [
            [centile, [list(point) for point in points]]
            for centile, points in lines_from_rcpchgrowth(reference, method, sex)
        ]
        for reference in REFERENCES
        for method in METHODS
        for sex in SEXES
    }


def dumps(data: dict) -> str:
    return json.dumps(data, separators=(",", ":"), sort_keys=True) + "\n"


@lru_cache(maxsize=1)
def _stored() -> dict:
    with DATA_FILE.open(encoding="utf-8") as handle:
        return json.load(handle)


@lru_cache(maxsize=64)
def stored_lines(reference: str, method: str, sex: str) -> tuple:
    """The lines of lines_from_rcpchgrowth, read from the built file."""
    return tuple(
        (float(centile), tuple((x, y) for x, y in points))
        for centile, points in _stored().get(_key(reference, method, sex), ())
    )
