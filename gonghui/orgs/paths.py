"""Materialised paths: each level is STEP characters of base 36, so a subtree is a path prefix.

Four characters a level give 1,679,616 children per node; twelve levels fit in 48 characters.
"""

from __future__ import annotations

STEP = 4
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
MAX_CHILDREN = len(ALPHABET) ** STEP
PATH_MAX_LENGTH = 64


def encode_step(index: int) -> str:
    if not 0 < index < MAX_CHILDREN:
        raise ValueError(f"child index {index} out of range")
    digits = []
    for _ in range(STEP):
        index, rem = divmod(index, len(ALPHABET))
        digits.append(ALPHABET[rem])
    return "".join(reversed(digits))


def child_path(parent_path: str, index: int) -> str:
    return parent_path + encode_step(index)


def depth_of(path: str) -> int:
    return len(path) // STEP


def ancestor_paths(path: str, include_self: bool = True) -> list[str]:
    """Root first."""
    end = len(path) if include_self else len(path) - STEP
    return [path[:i] for i in range(STEP, end + 1, STEP)]

