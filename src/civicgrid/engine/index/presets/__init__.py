"""Presets that reproduce published indices from their raw inputs only.

* ``svi`` -- CDC/ATSDR Social Vulnerability Index (2020/2022 16-variable and 2018 15-variable sets).
* ``inform`` -- INFORM Risk Index (EC JRC), recomputed from its leaf components.

The specifications are YAML files next to this module; :func:`load_preset` returns them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from importlib import resources

import pandas as pd

from .._engine import compute_index
from .._spec import IndexSpec

PRESETS: dict[str, str] = {
    "svi_2018": "svi_2018.yaml",
    "svi_2020": "svi_2020.yaml",
    "svi_2022": "svi_2020.yaml",
    "inform_gri": "inform_gri.yaml",
}

# Which SVI releases use which variable set (2014 and 2016 share the 2018 layout).
SVI_LAYOUTS: dict[int, str] = {
    2014: "svi_2018",
    2016: "svi_2018",
    2018: "svi_2018",
    2020: "svi_2020",
    2022: "svi_2020",
}


def load_preset(name: str) -> IndexSpec:
    """The specification of a preset (``svi_2018``, ``svi_2020``, ``svi_2022``, ``inform_gri``).

    >>> load_preset("svi_2022").root
    'THEMES'
    """
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; available: {sorted(PRESETS)}")
    text = resources.files(__name__).joinpath(PRESETS[name]).read_text(encoding="utf-8")
    return IndexSpec.from_yaml(text)


# ---------------------------------------------------------------------------------------- SVI
def svi_layout(columns: Iterable[str], *, release: int | str | None = None) -> str:
    """The SVI preset matching ``release`` or, when ``None``, the EP_ columns present.

    >>> svi_layout(["FIPS", "EP_POV", "EP_PCI", "EP_UNEMP"], release=2018)
    'svi_2018'
    """
    if release is not None:
        try:
            year = int(release)
        except (TypeError, ValueError):
            raise ValueError(f"release must be a year such as 2022, got {release!r}") from None
        if year not in SVI_LAYOUTS:
            raise ValueError(
                f"no SVI layout for release {year}; known releases: {sorted(SVI_LAYOUTS)}"
            )
        return SVI_LAYOUTS[year]
    present = set(columns)
    candidates = {
        name: {i.column for i in load_preset(name).indicators} for name in ("svi_2020", "svi_2018")
    }
    complete = [name for name, needed in candidates.items() if needed <= present]
    if len(complete) == 1:
        return complete[0]
    if len(complete) > 1:
        raise ValueError(
            "the input has the EP_ columns of both the 2018 and the 2020/2022 layouts; "
            "pass release="
        )
    closest = min(candidates, key=lambda name: len(candidates[name] - present))
    missing = sorted(candidates[closest] - present)
    raise ValueError(
        f"cannot detect the SVI layout: closest is {closest!r}, which lacks columns {missing}"
    )


def _zero_filled_fips(values: pd.Series) -> pd.Series:
    """FIPS codes as text, zero-filled to 5 digits (counties) or 11 digits (tracts)."""
    text = values.astype("string").str.strip().str.replace(r"\.0$", "", regex=True)
    bad = text.isna() | ~text.str.fullmatch(r"\d{1,11}").fillna(False)
    if bad.any():
        example = values[bad.to_numpy()].iloc[0]
        raise ValueError(f"column 'FIPS': {example!r} is not a FIPS code (1 to 11 digits)")
    width = 11 if text.str.len().max() > 5 else 5
    return text.str.zfill(width).astype(object)


def svi(
    data: pd.DataFrame, *, release: int | str | None = None, missing: float | None = -999
) -> pd.DataFrame:
    """Compute the CDC/ATSDR SVI from the ``EP_`` percentages of ``data``.

    Parameters
    ----------
    data : DataFrame
        One row per county or tract with ``FIPS`` and the release's ``EP_`` columns; any
        published ``EPL_``/``SPL_``/``RPL_``/``F_`` columns are ignored.
    release : int, optional
        2014, 2016, 2018, 2020 or 2022; by default detected from the columns present.
    missing : float or None
        Code for "no data" in the output, -999 as published; ``None`` leaves NaN.

    Returns
    -------
    DataFrame
        ``FIPS`` (zero-filled) and the published result columns, in the published order
        (float scores, integer flags), with ``missing`` where there is no data.

    Examples
    --------
    >>> import numpy as np
    >>> names = ["POV150", "UNEMP", "HBURD", "NOHSDP", "UNINSUR", "AGE65", "AGE17", "DISABL",
    ...          "SNGPNT", "LIMENG", "MINRTY", "MUNIT", "MOBILE", "CROWD", "NOVEH", "GROUPQ"]
    >>> rng = np.random.default_rng(0)
    >>> data = pd.DataFrame({f"EP_{n}": rng.uniform(0, 30, 5).round(1) for n in names})
    >>> data.insert(0, "FIPS", [1001, 1003, 1005, 1007, 1009])
    >>> out = svi(data)
    >>> out["FIPS"].tolist()[:2], out["RPL_THEMES"].between(0, 1).all()
    (['01001', '01003'], np.True_)
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, not {type(data).__name__}")
    if "FIPS" not in data.columns:
        raise ValueError("the SVI input needs a FIPS column")
    spec = load_preset(svi_layout(data.columns, release=release))
    inputs = data[["FIPS", *[i.column for i in spec.indicators]]].copy()
    inputs["FIPS"] = _zero_filled_fips(inputs["FIPS"])
    result = compute_index(inputs, spec=spec)
    table = result.table(published=True, missing=missing)
    table.insert(0, "FIPS", table.index.to_numpy())
    return table.reset_index(drop=True)


# ------------------------------------------------------------------------------------- INFORM
_INFORM_ALIASES = {
    "currentconflictintensity": "currenthighlyviolentconflictintensity",
    "childrenunder5": "childrenu5",
    "uprootedpeoples": "uprootedpeople",
}


def _header_key(name: str) -> str:
    key = re.sub(r"[^a-z0-9]", "", str(name).lower().replace("&", "and"))
    return _INFORM_ALIASES.get(key, key)


def inform(data: pd.DataFrame) -> pd.DataFrame:
    """Recompute the INFORM Risk Index from its leaf components.

    Column headers are matched ignoring case, spacing and ``&``/``and``; ``x`` marks missing
    values; published group columns in the input are ignored; ``Epidemic`` may be absent.

    Returns
    -------
    DataFrame
        ``ISO3`` and the groups, dimensions and ``INFORM RISK`` under their published names,
        to one decimal as INFORM publishes them.

    Examples
    --------
    >>> leaves = {"Earthquake": 5, "Flood": 5, "Tsunami": 0, "Tropical Cyclone": 0, "Drought": 5,
    ...   "Projected Conflict Risk": 5, "Current Highly Violent Conflict Intensity": 0,
    ...   "Development & Deprivation": 5, "Inequality": "x", "Aid Dependency": 5,
    ...   "Uprooted people": 5, "Health Conditions": 5, "Children U5": 5, "Recent Shocks": 5,
    ...   "Food Security": 5, "DRR": 5, "Governance": 5, "Communication": 5,
    ...   "Physical infrastructure": 5, "Access to health care": 5}
    >>> row = pd.DataFrame([{"ISO3": "AAA", **leaves}])
    >>> inform(row).loc[0, ["Human", "Socio-Economic Vulnerability", "INFORM RISK"]].tolist()
    [3.5, 5.0, 4.4]
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, not {type(data).__name__}")
    spec = load_preset("inform_gri")
    by_key: dict[str, str] = {}
    for column in data.columns:
        key = _header_key(column)
        if key in by_key:
            raise ValueError(
                f"columns {by_key[key]!r} and {column!r} both match the same INFORM component"
            )
        by_key[key] = str(column)
    wanted = {"ISO3": "ISO3", **{i.column: i.column for i in spec.indicators}}
    renames: dict[str, str] = {}
    for canonical in wanted:
        actual = by_key.get(_header_key(canonical))
        if actual is not None:
            renames[actual] = canonical
    if "ISO3" not in renames.values():
        raise ValueError("the INFORM input needs an ISO3 column")
    inputs = data[list(renames)].rename(columns=renames)
    result = compute_index(inputs, spec=spec)
    table = result.table(published=True)
    table.insert(0, "ISO3", table.index.to_numpy())
    return table.reset_index(drop=True)
