"""PostgreSQL literals the import engine writes: quoted column lists, text arrays
as COPY or a cast reads them, and the field kinds COPY's CSV can carry.
"""

from collections.abc import Iterable

from django.contrib.postgres.fields import ArrayField

TEXT_FIELDS = frozenset({"CharField", "TextField"})
# Fields whose values csv writes as PostgreSQL reads them (str(value)).
PLAIN_FIELDS = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "BigIntegerField",
        "BooleanField",
        "DateField",
        "DecimalField",
        "ForeignKey",
        "IntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SmallIntegerField",
    }
)


def _quoted(columns: list[str]) -> str:
    return ", ".join(f'"{c}"' for c in columns)


def _array_literal(values: Iterable[str]) -> str:
    """A PostgreSQL array of text, as COPY or a cast reads it: {"A00","B01.2"}."""
    values = list(values)
    joined = "".join(values)
    if '"' in joined or "\\" in joined:
        values = [v.replace("\\", "\\\\").replace('"', '\\"') for v in values]
    return '{"' + '","'.join(values) + '"}' if values else "{}"


def _text_array(model_field) -> bool:
    """An array of text that is never NULL: what _array_literal writes."""
    return (
        isinstance(model_field, ArrayField)
        and not model_field.null
        and model_field.base_field.get_internal_type() in TEXT_FIELDS
    )
