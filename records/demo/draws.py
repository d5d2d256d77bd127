"""Weighted random draws, from the demo's one seeded generator."""

import random
from collections.abc import Sequence
from typing import Any


def _weighted(rng: random.Random, pairs: Sequence[tuple[Any, int]]) -> Any:
    values, weights = zip(*pairs)
    return rng.choices(values, weights=weights)[0]


def _weighted_sample(
    rng: random.Random, pairs: Sequence[tuple[Any, int]], k: int
) -> list[Any]:
    """Up to k distinct values, each drawn by weight from those not yet drawn."""
    remaining, chosen = list(pairs), []
    while remaining and len(chosen) < k:
        value = _weighted(rng, remaining)
        chosen.append(value)
        remaining = [pair for pair in remaining if pair[0] != value]
    return chosen
