"""The configured password hasher with test-sized costs.

Argon2 as configured (100 MiB, 8 lanes, time cost 2) takes a third of a second and
more a hash; the suite makes and signs in thousands of users. The same algorithm with
the smallest costs keeps every hash an `argon2$` one, checked by the same code.
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class CheapArgon2PasswordHasher(Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 8  # KiB: argon2's least for one lane
    parallelism = 1


# A configured hasher and its cheap stand-in (a hasher not here keeps its costs).
CHEAP = {
    "django.contrib.auth.hashers.Argon2PasswordHasher": (
        "tests.support.passwords.CheapArgon2PasswordHasher"
    ),
}


def cheap_hashers(configured: list[str]) -> list[str]:
    """PASSWORD_HASHERS with each hasher swapped for its cheap stand-in, in place (the
    first still hashes; the others still verify)."""
    return [CHEAP.get(path, path) for path in configured]
