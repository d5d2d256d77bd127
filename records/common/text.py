"""Text that people read back: no invisible characters standing in for words."""

import re

from django.core.exceptions import ValidationError

# Unicode's control (Cc, but tab, line feed and carriage return) and format (Cf)
# characters: NUL, escape, zero-width spaces and joiners, bidirectional overrides
# (U+202E turns "gpj.exe" into what reads as "exe.jpg"), byte-order marks, tags.
HIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f"
    "\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
    "\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)
E_HIDDEN_CHARACTERS = (
    "Remove the invisible or control characters (such as a zero-width space or a "
    "right-to-left override) from this text."
)


def visible(text: str | None) -> str:
    """The text without its invisible characters, trimmed: what a reason or a
    note says to whoever reads it back."""
    return HIDDEN.sub("", text or "").strip()


def no_hidden_characters(value: str) -> None:
    """A validator: names and other identifying text hold only visible characters."""
    if HIDDEN.search(value):
        raise ValidationError(E_HIDDEN_CHARACTERS, code="hidden_characters")
