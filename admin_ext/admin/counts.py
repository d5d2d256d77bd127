"""How many rows a list holds, said without counting a large table: exact up to a
thousand (the ids of at most a thousand and one rows, read with LIMIT; no COUNT),
beyond that PostgreSQL's own estimate for the same query (EXPLAIN's planned rows,
from the table's statistics), rounded and said to be one; a list the planner
expects to hold over ten thousand rows is estimated without reading any."""

import json

from django.db import connections
from django.db.models import QuerySet

EXACT_UP_TO = 1000
# Past ten times that, the planner is not wrong about there being more than a
# thousand: its estimate is said without reading a row.
TRUST_ESTIMATE_FROM = 10 * EXACT_UP_TO


def estimated_rows(queryset: QuerySet) -> int:
    """The planner's estimate of the rows `queryset` returns: no row is read."""
    sql, params = queryset.order_by().query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def rounded(number: int) -> int:
    """Two significant figures: 298,734 is about 300,000."""
    digits = len(str(number))
    step = 10 ** max(digits - 2, 0)
    return round(number / step) * step


def bounded_count(queryset: QuerySet) -> tuple[int, bool]:
    """(rows, estimated). When the planner expects far more than EXACT_UP_TO rows,
    its estimate, and no row is read: reading even a thousand and one ids of a
    search over common names cost more than the page itself at a million charts.
    Otherwise exact up to EXACT_UP_TO, read as the ids of at most EXACT_UP_TO + 1
    rows (no COUNT at all), and the estimate beyond."""
    estimate = estimated_rows(queryset)
    if estimate > TRUST_ESTIMATE_FROM:
        return rounded(estimate), True
    exact = len(queryset.order_by().values_list("pk", flat=True)[: EXACT_UP_TO + 1])
    if exact <= EXACT_UP_TO:
        return exact, False
    return max(rounded(estimate), EXACT_UP_TO), True


def figure_text(queryset: QuerySet) -> str:
    """'3', or 'About 300,000' (a dashboard's figure)."""
    rows, estimated = bounded_count(queryset)
    return f"About {rows:,}" if estimated else f"{rows:,}"


def count_text(queryset: QuerySet) -> str:
    """'3 patients', or 'About 300,000 patients (an estimate)'."""
    opts = queryset.model._meta
    rows, estimated = bounded_count(queryset)
    if estimated:
        return f"About {rows:,} {opts.verbose_name_plural} (an estimate)"
    noun = opts.verbose_name if rows == 1 else opts.verbose_name_plural
    return f"{rows:,} {noun}"
