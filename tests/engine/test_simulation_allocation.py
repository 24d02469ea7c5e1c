"""The simulation's allocation kernel gives what ``allocate`` gives, request for request."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from civicgrid.engine._simulation_kernel import policy_fill
from civicgrid.engine.allocation import POLICIES, allocate


def _instance(rng: np.random.Generator, *, unit: bool) -> dict[str, np.ndarray]:
    n = int(rng.integers(1, 300))
    n_pools = int(rng.integers(1, 6))
    need = np.ones(n) if unit else rng.integers(0, 12, n).astype(float)
    floor = need.copy() if unit else np.floor(need * rng.random(n))
    return {
        "pool": rng.integers(0, n_pools, n),
        "need": need,
        "floor": floor,
        # weights from a few values, as household weights are, so ties happen
        "weight": rng.choice([1.0, 1.2, 1.5, 2.0, 2.7], n),
        "tier": rng.integers(0, 3, n),
        "time": rng.integers(0, 5, n).astype(float),
        "stock": rng.integers(0, max(2, int(need.sum()) // n_pools), n_pools).astype(float),
    }


def _frames(case: dict[str, np.ndarray]) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = case["need"].size
    requests = pd.DataFrame({
        "request_id": np.arange(n),
        "household_id": [f"h{i}" for i in range(n)],
        "item": "x",
        "point": case["pool"],
        "need": case["need"].astype(int),
        "weight": case["weight"],
        "tier": case["tier"],
        "floor": case["floor"].astype(int),
        "requested_at": case["time"],
    })
    stock = pd.DataFrame({
        "item": "x",
        "point": np.arange(case["stock"].size),
        "quantity": case["stock"].astype(int),
    })
    return requests, stock


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("unit", [False, True], ids=["goods", "visits"])
def test_policy_fill_equals_allocate(policy: str, unit: bool) -> None:
    rng = np.random.default_rng([11, POLICIES.index(policy), unit])
    for trial in range(40):
        case = _instance(rng, unit=unit)
        requests, stock = _frames(case)
        expected = allocate(requests, stock, policy=policy, seed=trial).allocated.to_numpy()
        got = policy_fill(**case, policy=policy, seed=trial)
        np.testing.assert_array_equal(got, expected, err_msg=f"trial {trial}")
