"""Password rules of our own, beside Django's (settings.AUTH_PASSWORD_VALIDATORS)."""

import re

from django.core.exceptions import ValidationError

E_PASSWORD_OF_ACCOUNT_DETAILS = (
    "This password is made of the account's username, name or email address "
    "(repeated, or with digits, symbols or capitals added). Use words that have "
    "nothing to do with the account."
)
HELP_PASSWORD_OF_ACCOUNT_DETAILS = (
    "A password cannot be made of the account's username, name or email address, "
    "repeated or with digits, symbols or capitals added."
)

DEFAULT_ATTRIBUTES = ("username", "first_name", "last_name", "email")
# Shorter parts of a name or address ("al", "jo") are left alone: they occur in words.
MIN_PART_LENGTH = 3
# What must be left, in letters, once the account's details are taken out.
MIN_OWN_LETTERS = 4

_WORD = re.compile(r"\w+")
_DIGITS = re.compile(r"\d+")


class AccountDetailsPasswordValidator:
    """Refuse a password made of the account's own details: its username, name or
    email address, or their parts, in any case, repeated, and with digits and
    symbols around them (`clin2clin2clin2` for `clin2`, `Nurse-Nurse-2024!`).
    Django's UserAttributeSimilarityValidator compares the whole password with each
    detail and lets a repetition through."""

    def __init__(
        self,
        user_attributes=DEFAULT_ATTRIBUTES,
        min_own_letters: int = MIN_OWN_LETTERS,
    ):
        self.user_attributes = user_attributes
        self.min_own_letters = min_own_letters

    def validate(self, password: str, user=None) -> None:
        if user is None:
            return
        parts = _parts(user, self.user_attributes)
        if not parts:
            return
        rest = password.casefold()
        # Longest first, so that "clin2" goes before its own "clin".
        for part in sorted(parts, key=len, reverse=True):
            rest = rest.replace(part, "")
        own_letters = sum(1 for char in rest if char.isalpha())
        if own_letters < self.min_own_letters:
            raise ValidationError(
                E_PASSWORD_OF_ACCOUNT_DETAILS, code="password_of_account_details"
            )

    def get_help_text(self) -> str:
        return HELP_PASSWORD_OF_ACCOUNT_DETAILS


def _parts(user, attributes) -> set[str]:
    """Each detail whole and in its words, with and without their digits."""
    parts = set()
    for attribute in attributes:
        value = getattr(user, attribute, None)
        if not value or not isinstance(value, str):
            continue
        value = value.casefold()
        for piece in (value, *_WORD.findall(value)):
            for candidate in (piece, _DIGITS.sub("", piece)):
                if len(candidate) >= MIN_PART_LENGTH:
                    parts.add(candidate)
    return parts
