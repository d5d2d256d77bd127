"""How many rows a list holds, said without counting a large table: exact up to a
thousand (the ids of at most a thousand and one rows, counted with LIMIT),
beyond that PostgreSQL's own estimate for the same query (EXPLAIN's planned rows,
from the table's statistics), rounded and said to be one; a list the planner
expects to hold over ten thousand rows is estimated after reading one row. Two
queries either way, so that a page's queries do not change with the table; none
for a list whose search already counted its rows (`counted`)."""

import json

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet

EXACT_UP_TO = 1000
# Past ten times that, the planner is not wrong about there being more than a
# thousand: one row is read (is there any?), and the estimate said.
TRUST_ESTIMATE_FROM = 10 * EXACT_UP_TO


def estimated_rows(queryset: QuerySet) -> int:
    """The planner's estimate of the rows `queryset` returns: no row is read."""
    try:
        sql, params = queryset.order_by().query.sql_with_params()
    except EmptyResultSet:  # .none(): nothing to ask, nothing to read
        return 0
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


# Where a queryset keeps the count its maker already made (see `counted`).
_COUNTED = "_ndas_bounded_count"


def counted(queryset: QuerySet, count: tuple[int, bool]) -> QuerySet:
    """`queryset`, carrying `count` (bounded_count's answer for the same rows):
    a search that counts its matches to choose their order hands the list its
    count line with them, so the page does not count twice. The object alone
    carries it: a filtered or cloned copy is counted afresh."""
    setattr(queryset, _COUNTED, count)
    return queryset


def bounded_count(queryset: QuerySet) -> tuple[int, bool]:
    """(rows, estimated), in two queries whatever the table holds: the planner's
    estimate, then the ids of at most EXACT_UP_TO + 1 rows, or of one row when
    the planner expects far more than EXACT_UP_TO (reading a thousand and one ids
    of a search over common names cost more than the page itself at a million
    charts; the one row tells an empty list from a wrong estimate). Exact up to
    EXACT_UP_TO, the estimate beyond."""
    known = getattr(queryset, _COUNTED, None)
    if known is not None:
        return known
    estimate = estimated_rows(queryset)
    trusted = estimate > TRUST_ESTIMATE_FROM
    limit = 1 if trusted else EXACT_UP_TO + 1
    # Counted in PostgreSQL (COUNT over the LIMITed ids): no id comes back.
    read = queryset.order_by().values("pk")[:limit].count()
    if read == 0 or (not trusted and read <= EXACT_UP_TO):
        return read, False
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
