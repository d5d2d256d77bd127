"""Bounds on what a search may ask of the database, whoever searches.

Each word of a name search becomes its own prefix and trigram clauses: a term of
a few kilobytes turned into thousands of OR'ed similarity tests in one
statement. No one looks a chart up with more than a few words, so a search keeps
its first SEARCH_MAX_WORDS words and SEARCH_MAX_CHARS characters, without the
control characters (NUL among them) that PostgreSQL cannot take in a string.
"""

import re
from dataclasses import dataclass

SEARCH_MAX_CHARS = 100
SEARCH_MAX_WORDS = 5
E_SEARCH_CUT = (
    "Searches use at most {words} words and {chars} characters: "
    "this one was shortened to “{term}”."
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class SearchTerm:
    text: str
    cut: bool = False

    @property
    def message(self) -> str:
        return E_SEARCH_CUT.format(
            words=SEARCH_MAX_WORDS, chars=SEARCH_MAX_CHARS, term=self.text
        )


def search_bound(term: str | None) -> SearchTerm:
    """The term as the database will see it: words separated by single spaces,
    no control characters, within the bounds above (cut says if it was cut)."""
    words = _CONTROL.sub(" ", term or "").split()
    text = " ".join(words[:SEARCH_MAX_WORDS])
    cut = len(words) > SEARCH_MAX_WORDS or len(text) > SEARCH_MAX_CHARS
    return SearchTerm(text=text[:SEARCH_MAX_CHARS].strip(), cut=cut)
