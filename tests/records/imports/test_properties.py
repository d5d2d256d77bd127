"""Property tests: whatever the bytes, the parser answers with rows or one clear
error; whatever the text, a column's rule returns a valid value or a clear error."""

import csv
import io
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from records.imports.entities import ENTITIES
from records.imports.parsing import ParseError, read_table
from records.patients import validators

pytestmark = pytest.mark.django_db

cell = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=300), name=st.sampled_from(["a.csv", "a.xlsx", "a.txt"]))
def test_any_bytes_give_rows_or_one_parse_error(data, name):
    try:
        table = read_table(data=data, file_name=name)
        list(table.rows)
    except ParseError as error:
        assert error.message


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(st.lists(cell, min_size=3, max_size=3), min_size=1, max_size=8),
    delimiter=st.sampled_from([",", ";"]),
)
def test_what_csv_writes_the_parser_reads_back(rows, delimiter):
    header = ["mrn", "given_name", "family_name"]
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows([header, *rows])
    table = read_table(data=out.getvalue().encode(), file_name="a.csv")
    assert table.header == header
    parsed = [cells for _, cells in table.rows if any(cells)]
    expected = [[c.strip() for c in row] for row in rows if any(c.strip() for c in row)]
    assert parsed == expected


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=cell)
def test_every_patient_column_returns_a_valid_value_or_a_clear_error(raw):
    for column in ENTITIES["patients"].columns:
        try:
            value = column.clean(raw.strip())
        except ValidationError as error:
            assert error.messages and all(error.messages)
            continue
        if column.name == "mrn":
            validators.mrn_validate(value)  # what was accepted is a valid MRN


def _cleaned_one_by_one(column, raws):
    values = []
    for raw in raws:
        try:
            values.append(column.clean(raw))
        except ValidationError:
            return None
    return values


# Cells most columns accept, and near misses, so that both answers come up.
typical = st.sampled_from(
    [
        "2025-03-14",
        "14/03/2025",
        "2999-01-01",
        "1899-12-31",
        "31",
        "31.0",
        "-4",
        "99999",
        "1E+2",
        "female",
        "Female",
        "hine",
        "typical",
        "NDA-00123",
        "nda-1",
        "+442079460123",
        "020 7946 0123",
        "07700 900123",
        "orla@example.org",
        "Quellhaven",
        "x" * 101,
        "7.45",
        "F84.0, R62.0",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raws=st.lists(st.one_of(typical, cell.map(str.strip)), min_size=1, max_size=6))
def test_a_column_cleaned_at_once_is_cleaned_as_cell_by_cell(raws):
    """clean_many may always say "ask each cell" (None); what it does return must
    be what cell-by-cell cleaning returns, with no cell failing."""
    raws = [raw for raw in raws if raw] or ["x"]
    for spec in ENTITIES.values():
        for column in spec.columns:
            at_once = column.clean_many(raws)
            if at_once is None:
                continue  # "ask each cell": right whatever the cells are
            # Given, it is exactly what cleaning each cell gives, and none failed.
            assert at_once == _cleaned_one_by_one(column, raws), (spec, column)
    # A cell that fails makes the column answer None, never a value; cells that
    # all pass get their values at once (the fast way is taken at all).
    patients = ENTITIES["patients"]
    assert patients.column("date_of_birth").clean_many(["2025-03-14"]) == [
        date(2025, 3, 14)
    ]
    assert patients.column("sex").clean_many(["female", "Male"]) == ["female", "male"]
    assert patients.column("date_of_birth").clean_many(["2025-03-14", "x"]) is None
    assert patients.column("sex").clean_many(["female", "f?"]) is None


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(max_size=40),
    bad=st.sampled_from([b"\xff", b"\xc3", b"\xe2\x82", b"\xc3(", b"\xed\xa0\x80"]),
    at=st.integers(min_value=0, max_value=40),
    slice_size=st.integers(min_value=1, max_value=8),
)
def test_the_first_bad_byte_is_named_wherever_it_falls(text, bad, at, slice_size):
    """Checked a slice at a time, the file's first bad byte is where decoding it
    whole says, even when a character straddles two slices."""
    good = text.encode()
    data = good[:at] + bad + good[at:]
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        expected = error.start
    else:  # pragma: no cover - every `bad` above is invalid somewhere
        raise AssertionError("not a bad file")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("records.imports.parsing.DECODE_SLICE", slice_size)
        with pytest.raises(ParseError) as raised:
            read_table(data=b"h\n" + data, file_name="a.csv")
    assert f"near byte {expected + 2})" in raised.value.message
