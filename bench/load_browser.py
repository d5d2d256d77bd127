"""What a browser sends, for bench/load.py's simulated staff: the fields of a page's
form as it would post them, a multipart upload, a data manager's small patient file."""

import re
import secrets
from datetime import date, timedelta
from html.parser import HTMLParser


class FormFields(HTMLParser):
    """The fields a browser would post from each form of a page: inputs (checked
    boxes and radios only; no files, no buttons), selected options (a single
    select with none selected posts its first), text areas."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, list[tuple[str, str]]]] = []
        self.fields: list[tuple[str, str]] | None = None
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen = self._multiple = False
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.fields = []
            self.forms.append((attrs.get("id") or "", self.fields))
            return
        name = attrs.get("name")
        if self.fields is None or not name or "disabled" in attrs:
            if tag == "option" and self._select:
                self._option(attrs)
            return
        if tag == "input":
            kind = (attrs.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            default = "on" if kind in ("checkbox", "radio") else ""
            self.fields.append((name, attrs.get("value") or default))
        elif tag == "select":
            self._select, self._select_first, self._select_chosen = name, None, False
            self._multiple = "multiple" in attrs
        elif tag == "textarea":
            self._textarea, self._text = name, []

    def _option(self, attrs):
        value = attrs.get("value", "")
        if self._select_first is None:
            self._select_first = value
        if "selected" in attrs:
            self.fields.append((self._select, value))
            self._select_chosen = True

    def handle_endtag(self, tag):
        if tag == "form":
            self.fields = None
        elif tag == "select" and self._select:
            unchosen = not self._select_chosen and not self._multiple
            if unchosen and self._select_first is not None and self.fields is not None:
                self.fields.append((self._select, self._select_first))
            self._select = None
        elif tag == "textarea" and self._textarea:
            if self.fields is not None:
                self.fields.append((self._textarea, "".join(self._text).lstrip("\n")))
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self._text.append(data)


def form_fields(
    html: str, *, form_id: str | None = None, having: str | None = None
) -> dict[str, list[str]]:
    """The fields (name -> values, in order) a browser posts from the page's
    first form of that id, or holding a field of that name."""
    parser = FormFields()
    parser.feed(html)
    for found_id, fields in parser.forms:
        names = {name for name, _ in fields}
        if (form_id is None or found_id == form_id) and (
            having is None or having in names
        ):
            posted: dict[str, list[str]] = {}
            for name, value in fields:
                posted.setdefault(name, []).append(value)
            return posted
    raise LookupError(f"no form {form_id or ''} {having or ''} in the page")


def form_errors(html: str) -> str:
    """What a form shown again says is wrong (its error note at the top, or its
    error lists), for the report:
    a save that did not save is the bench's to explain."""
    found = re.findall(
        r'<div class="errornote[^"]*"[^>]*>(.*?)</div>'
        r'|<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>',
        html or "",
        re.S,
    )
    found = [note or items for note, items in found]
    words = [" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in found]
    return f": {'; '.join(words)[:200]}" if words else ""


def form_options(html: str, name: str) -> list[str]:
    """The values of a select's options (empty values left out)."""
    options: list[str] = []

    class Options(HTMLParser):
        inside = False

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "select":
                self.inside = attrs.get("name") == name
            elif tag == "option" and self.inside and attrs.get("value"):
                options.append(attrs["value"])

        def handle_endtag(self, tag):
            if tag == "select":
                self.inside = False

    Options().feed(html)
    return options


def multipart(fields: dict[str, str], file_field: str, file_name: str, content: bytes):
    """A multipart/form-data body with one file, as a browser posts an upload:
    (body, content type)."""
    boundary = "----ndasbench" + secrets.token_hex(12)
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            f"{value}\r\n".encode()
        )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
        f'filename="{file_name}"\r\nContent-Type: text/csv\r\n\r\n'.encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def import_file(manager: int, run: int) -> bytes:
    """A data manager's small patient file: their own ten charts, created by the
    first import and updated by the next (the guardian's name changes), so that
    repeated imports write a bounded number of rows."""
    lines = ["mrn,given_name,family_name,date_of_birth,sex,guardian_name"]
    for n in range(10):
        born = date(2019, 1, 1) + timedelta(days=37 * n + manager)
        lines.append(
            f"LOAD-M{manager:03d}-{n:02d},Bench,Loadtest,{born.isoformat()},"
            f"{'female' if n % 2 else 'male'},Guardian {run}"
        )
    return ("\n".join(lines) + "\n").encode()


# Roughly the median weight (kg) and height (cm) by age in years (UK-WHO, both
# sexes): a visit's measurements as a clinician records them, within the growth
# checks' bounds (a fixed 18.5 kg and 108 cm were refused at under two years).
TYPICAL_GROWTH = (
    (0.0, 3.4, 50.0),
    (0.25, 6.0, 61.0),
    (0.5, 7.8, 67.0),
    (1.0, 9.6, 75.0),
    (2.0, 12.2, 87.0),
    (3.0, 14.3, 96.0),
    (5.0, 18.3, 110.0),
    (7.0, 22.9, 122.0),
    (10.0, 31.9, 138.0),
    (13.0, 45.0, 156.0),
    (16.0, 58.0, 170.0),
    (20.0, 65.0, 175.0),
)


def typical_growth(born: date, on: date) -> tuple[str, str]:
    """A typical weight and height on that day, as the form takes them."""
    age = max(0.0, min(20.0, (on - born).days / 365.25))
    for (a0, w0, h0), (a1, w1, h1) in zip(TYPICAL_GROWTH, TYPICAL_GROWTH[1:]):
        if a0 <= age <= a1:
            share = (age - a0) / (a1 - a0)
            weight, height = w0 + share * (w1 - w0), h0 + share * (h1 - h0)
            return f"{weight:.1f}", f"{height:.1f}"
    raise ValueError(age)
