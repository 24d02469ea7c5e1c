"""The procurement app's settings: ``CIVICGRID_PROCUREMENT`` (a dict) overrides any of the defaults."""

from __future__ import annotations

from typing import Any

from django.conf import settings

# Money is kept in integer fen (分, 1/100 yuan). The database refuses any sum above this ceiling
# (100 million yuan), whatever the setting says.
MONEY_CEILING_FEN = 10_000_000_000

DEFAULTS: dict[str, Any] = {
    # The OCDS ocid prefix ("ocds-" + 6 characters) the Open Contracting Partnership registers for a
    # publisher; "ocds-000000" is a placeholder until a district registers its own.
    "ocid_prefix": "ocds-000000",
    "max_amount_fen": 1_000_000_000,  # one appropriation, call or contract: at most 10 million yuan
    "max_milestones": 6,
    "currency": "CNY",
}


def conf(name: str) -> Any:
    value = {**DEFAULTS, **getattr(settings, "CIVICGRID_PROCUREMENT", {})}[name]
    if name == "max_amount_fen":
        return min(int(value), MONEY_CEILING_FEN)
    return value


def yuan(fen: int) -> str:
    """``123456`` fen as ``"1,234.56"`` (yuan with two decimals, the way amounts are shown)."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{whole:,}.{cents:02d}"
