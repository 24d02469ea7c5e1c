"""The unified social credit code (统一社会信用代码) of GB 32100-2015 and its check character.

Eighteen characters from a 31-character alphabet (the digits and the capitals without I, O, Z, S, V);
the last one is a check character computed from the first seventeen with the weights 3^i mod 31.
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LENGTH = 18


def check_character(first17: str) -> str:
    """The check character for the first seventeen characters of a code.

    >>> check_character("91110000600037341")
    'L'
    """
    total = sum(ALPHABET.index(ch) * w for ch, w in zip(first17, _WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def uscc_problem(code: str) -> str | None:
    """Why ``code`` is not a valid unified social credit code, or ``None`` when it is.

    >>> uscc_problem("91110000600037341L") is None
    True
    >>> uscc_problem("91110000600037341M")
    'check character'
    """
    if len(code) != LENGTH:
        return "length"
    if any(ch not in ALPHABET for ch in code):
        return "characters"
    if check_character(code[:17]) != code[17]:
        return "check character"
    return None
