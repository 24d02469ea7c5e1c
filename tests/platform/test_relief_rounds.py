"""Allocation rounds: the preview runs the engine on the registry's weights and Sphere floors, side by side for
every policy; a confirmed round is a frozen snapshot that recomputes to the same numbers after the registry
changes; confirmation takes the stock and creates delivery tasks grouped by building."""

from __future__ import annotations

import math
import re
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from civicgrid.accounts.roles import scope_for
from civicgrid.core.errors import Conflict, Invalid
from civicgrid.core.models import AuditLog
from civicgrid.core.scoping import Scope
from civicgrid.engine.allocation import POLICIES, allocate
from civicgrid.registry import services as registry
from civicgrid.registry.models import Household, Place
from civicgrid.relief import rounds, selectors, services
from civicgrid.relief.models import (
    AllocationRound,
    DeliveryTask,
    LedgerEntry,
    Lot,
    Need,
    RoundAllocation,
)
from tests.platform.relief_support import (
    SPHERE_FOOD_KCAL,
    SPHERE_WATER_L,
    World,
    client_for,
    grid_households,
    key,
    lockdown,
    login,
    receive,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


DAYS = 3
SEED = 11


@pytest.fixture
def world() -> World:
    return lockdown(households=grid_households("C01-G01") + grid_households("C01-G02"), share=0.6)


@pytest.fixture
def grid() -> Place:
    """The round's area: community C01 (the households with needs are in two of its grids)."""
    return Place.objects.get(code__endswith="C01", level="community")


def _preview(grid: Place, username: str = "director",
             items: tuple[str, ...] = ("t-food", "t-water")) -> tuple[Any, Scope, selectors.RoundPreview]:
    user, scope = login(username)
    return user, scope, selectors.round_preview(scope=scope, place_ids=[grid.pk], item_codes=list(items), days=DAYS,
                                               seed=SEED)


def _expected_floor(need: Need, household: Household) -> int:
    """Sphere minimum for the round's days, from the standards written out in the test support."""
    persons = household.size
    if need.item.code == "t-food":  # one ration is 2,100 kcal
        units = persons * SPHERE_FOOD_KCAL * DAYS / 2100
    else:  # 5 L bottles
        units = persons * SPHERE_WATER_L * DAYS / 5
    return min(need.quantity, math.ceil(units))


def _independent_tables(world: World, grid: Place) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The engine's tables built straight from the records, without the bridge under test."""
    needs = Need.objects.filter(household__place_path__startswith=grid.path, status="open").select_related(
        "household", "item")
    requests = pd.DataFrame([{
        "request_id": n.pk, "household_id": n.household_id, "item": n.item.code, "need": n.quantity,
        "weight": n.household.vulnerability_weight, "tier": 2, "floor": _expected_floor(n, n.household),
        "requested_at": n.filed_at, "point": world.point.code} for n in needs])
    stock = pd.DataFrame([{"item": code, "point": world.point.code, "quantity": Lot.objects.filter(
        item__code=code).aggregate(n=Sum("quantity"))["n"]} for code in ("t-food", "t-water")])
    return requests, stock


def test_preview_takes_weights_from_the_registry_floors_from_sphere_and_tiers_from_urgency(
        world: World, grid: Place,
) -> None:
    user, scope, preview = _preview(grid)
    requests = preview.inputs.requests.set_index("request_id")
    assert set(requests.index) == {n.pk for n in world.needs}
    for need in Need.objects.filter(pk__in=requests.index).select_related("household", "item"):
        row = requests.loc[need.pk]
        assert row["weight"] == need.household.vulnerability_weight
        assert row["floor"] == _expected_floor(need, need.household)
        assert (row["tier"], row["point"], row["need"]) == (2, world.point.code, need.quantity)
        assert bool(row["vulnerable"]) == (need.household.vulnerability_score >= 0.3)
    # life-critical first: an insulin need is tier 0 whatever its urgency, an urgent need tier 1
    household = world.households[0]
    insulin = services.need_file(user=user, scope=scope, household_id=household.pk, item="t-insulin", quantity=1,
                                 key=key()).need
    food = services.need_file(user=user, scope=scope, household_id=household.pk, item="t-food", quantity=1,
                              urgency="urgent", key=key()).need
    receive(world.items["insulin"], world.point, 1)
    *_, preview = _preview(grid, items=("t-food", "t-insulin"))
    tiers = preview.inputs.requests.set_index("request_id")["tier"]
    assert (tiers[insulin.pk], tiers[food.pk]) == (0, 1)


def _gini(x: np.ndarray) -> float:
    """Gini by its definition: the mean absolute difference over all pairs over twice the mean."""
    return float(np.abs(x[:, None] - x[None, :]).mean() / (2 * x.mean()))


def _concentration(x: np.ndarray, rank_by: np.ndarray) -> float:
    """Concentration index by its definition, 2 cov(x, R) / mean(x), with R the fractional rank
    ((rank - 1/2) / n) of ``rank_by``, tied values sharing their mean rank (ranks counted here)."""
    below = (rank_by[None, :] < rank_by[:, None]).sum(axis=1)
    tied = (rank_by[None, :] == rank_by[:, None]).sum(axis=1)
    fractional = (below + (tied + 1) / 2 - 0.5) / len(x)
    return float(2 * np.mean((x - x.mean()) * (fractional - fractional.mean())) / x.mean())


def test_a_patch_of_the_packages_round_inputs_reaches_the_preview(
        world: World, grid: Place, monkeypatch: pytest.MonkeyPatch) -> None:
    """selectors is a package: the preview reads through ``selectors.round_inputs``, so a patch of the package's
    attribute (bench_round times the preview's read so) is the read the preview makes."""
    real, seen = selectors.round_inputs, []

    def watched(**kwargs: Any) -> rounds.RoundInputs:
        seen.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(selectors, "round_inputs", watched)
    _user, _scope, preview = _preview(grid)
    assert len(seen) == 1 and len(preview.inputs.requests) > 0


def test_preview_equals_the_engine_on_independently_built_tables_for_every_policy(
        world: World, grid: Place,
) -> None:
    *_, preview = _preview(grid)
    requests, stock = _independent_tables(world, grid)
    vulnerable = requests["household_id"].map(dict(Household.objects.values_list("id", "vulnerability_score"))) >= 0.3
    assert [o.policy for o in preview.outcomes] == list(POLICIES)
    for outcome in preview.outcomes:
        expected = allocate(requests, stock, policy=outcome.policy, seed=SEED)
        got = dict(zip(outcome.result["request_id"], outcome.result["allocated"], strict=True))
        assert got == dict(zip(expected["request_id"], expected["allocated"], strict=True)), outcome.policy
        # the equity figures, worked out here from their definitions on the independent tables
        allocated = requests["request_id"].map(got).to_numpy(dtype=float)
        need = requests["need"].to_numpy(dtype=float)
        assert (need > 0).all()
        satisfaction = allocated / need
        assert outcome.metrics["gini"] == pytest.approx(_gini(satisfaction), abs=1e-6)
        assert outcome.metrics["concentration_by_weight"] == pytest.approx(
            _concentration(satisfaction, requests["weight"].to_numpy(dtype=float)), abs=1e-6)
        for group, members in (("vulnerable", vulnerable.to_numpy()), ("other", ~vulnerable.to_numpy())):
            rows = [(a, n, f) for a, n, f, member in zip(allocated, need, requests["floor"], members,
                                                            strict=True) if member]
            figures = outcome.metrics["groups"][group]
            assert figures["requests"] == len(rows) > 0
            assert figures["coverage"] == pytest.approx(sum(a >= f for a, _, f in rows) / len(rows), abs=1e-6)
            assert figures["unmet_share"] == pytest.approx(
                sum(n - a for a, n, _ in rows) / sum(n for _, n, _ in rows), abs=1e-6)


def test_equity_reaches_every_food_minimum_where_first_come_first_served_does_not(
        world: World, grid: Place,
) -> None:
    *_, preview = _preview(grid, items=("t-food",))
    by_policy = {o.policy: o.result for o in preview.outcomes}
    requests = preview.inputs.requests
    assert requests["floor"].sum() < requests["need"].sum() * 0.6  # three days of seven fit in 60% of stock
    equity, fcfs = by_policy["equity"], by_policy["fcfs"]
    assert (equity["allocated"] >= equity["floor"]).all()
    assert (fcfs["allocated"] < fcfs["floor"]).any()
    # first come, first served: in filing order, full needs, then one partial, then nothing
    order = np.argsort(pd.to_datetime(requests["requested_at"]).to_numpy(), kind="stable")
    share = (fcfs["allocated"] / fcfs["need"]).to_numpy()[order]
    assert (np.diff(share) <= 0).all() and share[0] == 1 and share[-1] == 0


def test_a_life_critical_request_is_served_in_full_before_anybodys_floor(world: World, grid: Place) -> None:
    user, scope = login("director")
    critical, *others = world.households[:4]
    first = services.need_file(user=user, scope=scope, household_id=critical.pk, item="t-medicine", quantity=2,
                               urgency="critical", key=key()).need
    rest = [services.need_file(user=user, scope=scope, household_id=h.pk, item="t-medicine", quantity=1, key=key())
            .need for h in others]
    receive(world.items["medicine"], world.point, 2)
    *_, preview = _preview(grid, items=("t-medicine",))
    equity = dict(zip(preview.outcomes[0].result["request_id"], preview.outcomes[0].result["allocated"], strict=True))
    assert equity[first.pk] == 2 and all(equity[n.pk] == 0 for n in rest)


def test_confirming_freezes_the_round_takes_the_stock_and_groups_deliveries_by_building(
        world: World, grid: Place,
) -> None:
    user, scope, preview = _preview(grid)
    stock_before = {code: Lot.objects.filter(item__code=code).aggregate(n=Sum("quantity"))["n"]
                    for code in ("t-food", "t-water")}
    round = services.round_confirm(user=user, scope=scope, place_ids=[grid.pk], item_codes=["t-food", "t-water"],
                                   days=DAYS, policy="equity", seed=SEED, fingerprint=preview.inputs.fingerprint)
    result = preview.outcomes[0].result
    allocated = dict(zip(result["request_id"].tolist(), result["allocated"].tolist(), strict=True))
    assert dict(RoundAllocation.objects.filter(round=round).values_list("need_id", "quantity")) == allocated
    assert round.result == {"request_id": list(allocated), "allocated": list(allocated.values())}
    snapshot = round.snapshot
    assert (snapshot["policy"], snapshot["seed"], snapshot["days"]) == ("equity", SEED, DAYS)
    assert snapshot["rule_version"] == rounds.RULE_VERSION and snapshot["vulnerability_rules"] == ["2026.1"]
    weights = dict(zip(snapshot["requests"]["request_id"], snapshot["requests"]["weight"], strict=True))
    assert all(weights[n.pk] == n.household.vulnerability_weight for n in world.needs)

    for code in ("t-food", "t-water"):
        units = sum(q for need_id, q in allocated.items() if Need.objects.get(pk=need_id).item.code == code)
        taken = LedgerEntry.objects.filter(round=round, item__code=code).aggregate(n=Sum("quantity"))["n"]
        assert taken == -units
        assert Lot.objects.filter(item__code=code).aggregate(n=Sum("quantity"))["n"] == stock_before[code] - units
        assert units == stock_before[code]  # stock was short: none left while requests are short
    for need in Need.objects.filter(pk__in=allocated):
        assert need.allocated_quantity == allocated[need.pk]
        assert need.status == ("allocated" if allocated[need.pk] == need.quantity else "open")

    served = {Need.objects.get(pk=n).household_id for n, q in allocated.items() if q > 0}
    expected: dict[int, set[int]] = {}
    for household in Household.objects.filter(pk__in=served):
        expected.setdefault(household.building_id, set()).add(household.pk)
    tasks = DeliveryTask.objects.filter(round=round)
    assert len(expected) > 1
    assert {t.building_id: set(t.stops.values_list("household_id", flat=True)) for t in tasks} == expected
    assert all(t.status == "open" and t.due_at == round.due_at for t in tasks)
    codes = [s.code for t in tasks for s in t.stops.all()]
    assert all(len(c) == 6 and c.isdigit() for c in codes)
    assert AuditLog.objects.filter(model="relief.AllocationRound", object_id=str(round.pk)).exists()


def test_a_confirmed_round_recomputes_to_the_same_numbers_after_registry_edits(
        world: World, grid: Place,
) -> None:
    user, scope, preview = _preview(grid)
    round = services.round_confirm(user=user, scope=scope, place_ids=[grid.pk], item_codes=["t-food", "t-water"],
                                   days=DAYS, policy="lottery", seed=SEED, fingerprint=preview.inputs.fingerprint)
    stored = dict(RoundAllocation.objects.filter(round=round).values_list("need_id", "quantity"))
    # the registry changes: a resident turns out to be 85, a household moves, another becomes a dibao household
    first = Need.objects.filter(pk__in=stored, status="open").order_by("id").first().household  # still waiting
    second = next(h for h in world.households if h.pk != first.pk)
    resident = first.residents.first()
    registry.resident_update(user=user, scope=scope_for(user), resident=resident, birth_date=date(1940, 1, 1), lives_alone=True)
    other_building = Place.objects.filter(level="building", path__startswith=grid.path).exclude(
        pk=second.building_id).order_by("-code").first()
    registry.household_update(user=user, scope=scope_for(user), household=second, building=other_building, income_status="dibao")
    first.refresh_from_db()
    snapshot_weight = dict(zip(round.snapshot["requests"]["household_id"], round.snapshot["requests"]["weight"],
                               strict=False))
    assert first.vulnerability_weight != snapshot_weight[first.pk]  # the edit changed the live weight

    round = AllocationRound.objects.get(pk=round.pk)
    result, metrics = rounds.recompute(round.snapshot)
    assert dict(zip(result["request_id"].tolist(), result["allocated"].tolist(), strict=True)) == stored
    assert metrics == round.metrics["lottery"]
    check = selectors.round_check(scope=scope, round=round)
    assert check.identical and check.requests == len(stored)
    # a coordinator of the district may recompute it too, and the page says so
    client = client_for("district")
    page = client.get(f"/relief/rounds/{round.pk}/?verify=1", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Identical" in page and "differ" not in page
    # the rules it was allocated by, in words: never the stored version code with the engine's field names
    assert "rules version 2026.1: life-critical needs first" in page and rounds.RULE_VERSION not in page
    with CaptureQueriesContext(connection) as queries:
        zh = client.get(f"/relief/rounds/{round.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    # the page reads the snapshot's summary, never the snapshot itself (a district's is 150 MB of JSON)
    assert not [q for q in queries if re.search(r'"relief_allocationround"\."snapshot"[,\s]', q["sql"])]
    rules = re.search(r"<th>规则</th><td[^>]*>([^<]*)</td>", zh)
    assert rules is not None and rules.group(1).startswith("规则版本 2026.1：危及生命的需求最先")
    assert not re.search(r"[A-Za-z]", rules.group(1)), rules.group(1)  # no code, no English
    # whereas a new preview sees the new weight
    *_, fresh = _preview(grid)
    fresh_weights = dict(zip(fresh.inputs.requests["household_id"], fresh.inputs.requests["weight"], strict=False))
    assert fresh_weights[first.pk] == first.vulnerability_weight


def test_a_confirmation_after_needs_changed_is_refused_and_writes_nothing(world: World, grid: Place) -> None:
    user, scope, preview = _preview(grid)
    services.need_file(user=user, scope=scope, household_id=world.households[-1].pk, item="t-water", quantity=3,
                       key=key())
    before = (LedgerEntry.objects.count(), list(Lot.objects.values_list("quantity", flat=True)),
              AuditLog.objects.count())
    with pytest.raises(Conflict):
        services.round_confirm(user=user, scope=scope, place_ids=[grid.pk], item_codes=["t-food", "t-water"],
                               days=DAYS, policy="equity", seed=SEED, fingerprint=preview.inputs.fingerprint)
    assert not AllocationRound.objects.exists() and not DeliveryTask.objects.exists()
    assert (LedgerEntry.objects.count(), list(Lot.objects.values_list("quantity", flat=True)),
            AuditLog.objects.count()) == before
    assert not Need.objects.filter(allocated_quantity__gt=0).exists()


def _without_open(world: World, item: str) -> Household:
    """A household of the round's area that has no open need of ``item``: a filing for it is a new need."""
    return next(h for h in world.households
                if not Need.objects.filter(household=h, item__code=item, status=Need.Status.OPEN).exists())


def test_needs_filed_after_the_preview_wait_for_the_next_round_instead_of_refusing_it(
        world: World, grid: Place) -> None:
    user, scope, preview = _preview(grid)
    newest = Need.objects.filter(household__place_path__startswith=grid.path, status=Need.Status.OPEN).latest("pk")
    assert preview.inputs.last_need_id == newest.pk
    late = services.need_file(user=user, scope=scope, household_id=_without_open(world, "t-water").pk,
                              item="t-water", quantity=3, key=key()).need
    choice = {"user": user, "scope": scope, "place_ids": [grid.pk], "item_codes": ["t-food", "t-water"],
              "days": DAYS, "policy": "equity", "seed": SEED, "fingerprint": preview.inputs.fingerprint}
    with pytest.raises(Conflict):  # without the preview's newest need, any new need refuses the round
        services.round_confirm(**choice)
    round = services.round_confirm(**choice, needs_up_to=preview.inputs.last_need_id)
    assert (round.fingerprint, round.n_requests) == (preview.inputs.fingerprint, len(preview.inputs.requests))
    assert set(RoundAllocation.objects.filter(round=round).values_list("need_id", flat=True)) == set(
        preview.inputs.requests["request_id"].tolist())
    late.refresh_from_db()
    assert (late.status, late.allocated_quantity) == (Need.Status.OPEN, 0)
    event = AuditLog.objects.get(event="relief.round_confirmed", object_id=str(round.pk))
    assert (event.new["needs_up_to"], event.new["needs_left"]) == (newest.pk, 1)
    # the next preview reads it (beside the needs this round served in part)
    *_, after = _preview(grid)
    assert late.pk in after.inputs.requests["request_id"].tolist() and after.inputs.last_need_id == late.pk


def test_a_life_critical_need_filed_after_the_preview_refuses_the_round(world: World, grid: Place) -> None:
    """The preview would serve it first: the official decides again with it in view."""
    user, scope, preview = _preview(grid)
    services.need_file(user=user, scope=scope, household_id=_without_open(world, "t-water").pk, item="t-water",
                       quantity=3, urgency="critical", key=key())
    with pytest.raises(Conflict, match="life-critical need was filed since your preview"):
        services.round_confirm(user=user, scope=scope, place_ids=[grid.pk], item_codes=["t-food", "t-water"],
                               days=DAYS, policy="equity", seed=SEED, fingerprint=preview.inputs.fingerprint,
                               needs_up_to=preview.inputs.last_need_id)
    assert not AllocationRound.objects.exists()


def test_a_need_up_to_the_cutoff_that_the_preview_did_not_read_refuses_the_round(world: World, grid: Place) -> None:
    """The cut-off only leaves out what is newer than the preview: an older open need that joins the selection
    since (its household moved into the area) changes what the round would read, and the fingerprint says so."""
    outside = Household.objects.exclude(place_path__startswith=grid.path).order_by("pk").first()
    assert outside is not None
    user, scope = login("district")
    stranger = services.need_file(user=user, scope=scope, household_id=outside.pk, item="t-food", quantity=2,
                                  key=key()).need
    services.need_file(user=user, scope=scope, household_id=_without_open(world, "t-water").pk, item="t-water",
                       quantity=3, key=key())  # the preview's newest need, after the stranger's
    director, director_scope, preview = _preview(grid)
    assert stranger.pk <= preview.inputs.last_need_id
    assert stranger.pk not in preview.inputs.requests["request_id"].tolist()
    inside = world.households[0]
    Household.objects.filter(pk=outside.pk).update(place_path=inside.place_path, building_id=inside.building_id,
                                                   grid_id=inside.grid_id)
    with pytest.raises(Conflict, match="changed since your preview"):
        services.round_confirm(user=director, scope=director_scope, place_ids=[grid.pk],
                               item_codes=["t-food", "t-water"], days=DAYS, policy="equity", seed=SEED,
                               fingerprint=preview.inputs.fingerprint, needs_up_to=preview.inputs.last_need_id)
    assert not RoundAllocation.objects.filter(need=stranger).exists()


@pytest.mark.parametrize("change", ["more units", "cancelled", "weight", "stock"])
def test_a_change_to_what_the_preview_read_still_refuses_the_round(world: World, grid: Place, change: str) -> None:
    user, scope, preview = _preview(grid)
    read = Need.objects.select_related("household", "item").get(pk=int(preview.inputs.requests["request_id"].iloc[0]))
    if change == "more units":  # a second filing asking more than is outstanding merges into the open need
        services.need_file(user=user, scope=scope, household_id=read.household_id, item=read.item.code,
                           quantity=read.quantity + 5, key=key())
    elif change == "cancelled":
        services.need_cancel(user=user, scope=scope, need_id=read.pk)
    elif change == "weight":
        Household.objects.filter(pk=read.household_id).update(vulnerability_weight=read.household.vulnerability_weight
                                                              + 1)
    else:
        receive(world.items["water"], world.point, 5)
    with pytest.raises(Conflict, match="changed since your preview"):
        services.round_confirm(user=user, scope=scope, place_ids=[grid.pk], item_codes=["t-food", "t-water"],
                               days=DAYS, policy="equity", seed=SEED, fingerprint=preview.inputs.fingerprint,
                               needs_up_to=preview.inputs.last_need_id)
    assert not AllocationRound.objects.exists() and not RoundAllocation.objects.exists()


@pytest.mark.parametrize("value", [0, -1, 2**63, "12", 1.5, True])
def test_a_newest_need_that_is_not_a_need_id_is_refused_by_field(world: World, grid: Place, value: Any) -> None:
    user, scope, preview = _preview(grid)
    with pytest.raises(Invalid) as refused:
        services.round_confirm_or_queue(user=user, scope=scope, place_ids=[grid.pk], item_codes=["t-food"],
                                        days=DAYS, policy="equity", seed=SEED, fingerprint=preview.inputs.fingerprint,
                                        needs_up_to=value)
    assert "needs_up_to" in refused.value.message_dict
    assert not AllocationRound.objects.exists()


def test_only_coordinators_run_rounds_and_only_in_their_area(world: World, grid: Place) -> None:
    params = {"places": grid.pk, "items": ["t-food"], "days": DAYS}
    for username in ("grid", "volunteer", "resident", "orgstaff"):
        client = client_for(username)
        assert client.get("/relief/rounds/preview/", params).status_code == 403, username
    other = Place.objects.get(code__endswith="C02-G01", level="grid")
    user, scope = login("director")
    with pytest.raises(Invalid):
        selectors.round_preview(scope=scope, place_ids=[other.pk], item_codes=["t-food"], days=DAYS, seed=1)
    with pytest.raises(Invalid):
        selectors.round_preview(scope=scope, place_ids=[grid.pk], item_codes=["t-food", "gold"], days=DAYS, seed=1)


def test_the_preview_page_shows_equity_beside_the_other_policies_and_confirms(
        world: World, grid: Place,
) -> None:
    client = client_for("director")
    page = client.get("/relief/rounds/preview/", {"places": grid.pk, "items": ["t-food", "t-water"], "days": DAYS,
                                                  "seed": SEED}, HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    html = page.content.decode()
    header = html.split('id="policy-table"')[1].split("</thead>")[0]
    assert all(f'data-policy="{p}"' in header for p in POLICIES)
    assert "First come, first served" in header and ">fcfs<" not in header  # names in words, never codes
    for metric in ("coverage", "groups.vulnerable.coverage", "groups.other.coverage", "groups.vulnerable.unmet_share",
                   "gini", "concentration_by_weight"):
        assert f'data-metric="{metric}"' in html
    form = page.context["form"]
    data = {**{k: v for k, v in form.initial.items() if k not in ("places", "items")}, "policy": "equity",
            "places": [grid.pk], "items": ["t-food", "t-water"]}
    assert form.initial["needs_up_to"] == page.context["inputs"].last_need_id
    assert f'name="needs_up_to" value="{form.initial["needs_up_to"]}"' in html  # what the browser sends
    user, scope = login("director")  # a need filed while the official reads the preview waits for the next round
    late = services.need_file(user=user, scope=scope, household_id=_without_open(world, "t-water").pk,
                              item="t-water", quantity=3, key=key()).need
    confirmed = client.post("/relief/rounds/preview/", data)
    round = AllocationRound.objects.get()
    assert confirmed.status_code == 302 and confirmed["Location"] == f"/relief/rounds/{round.pk}/"
    assert round.policy == "equity" and round.fingerprint == form.initial["fingerprint"]
    assert Need.objects.get(pk=late.pk).allocated_quantity == 0


@pytest.mark.parametrize(("field", "value"), [("needs_up_to", "abc"), ("needs_up_to", "-1"), ("needs_up_to", "9" * 30),
                                            ("seed", "x"), ("fingerprint", "")])
def test_an_altered_hidden_field_is_said_at_the_top_and_confirms_nothing(world: World, grid: Place, field: str,
                                                                         value: str) -> None:
    client = client_for("director", "zh-hans")
    page = client.get("/relief/rounds/preview/", {"places": grid.pk, "items": ["t-food"], "days": DAYS, "seed": SEED})
    form = page.context["form"]
    data = {**{k: v for k, v in form.initial.items() if k not in ("places", "items")}, "policy": "equity",
            "places": [grid.pk], "items": ["t-food"], field: value}
    answer = client.post("/relief/rounds/preview/", data)
    assert answer.status_code in (200, 400) and "请先重新预览，再确认本轮分配。" in answer.content.decode()
    assert not AllocationRound.objects.exists()


def test_the_previews_reasons_for_a_weight_are_in_the_readers_language(world: World, grid: Place) -> None:
    """The registry stores a household's reasons in the engine's English; the preview's examples word them."""
    params = {"places": grid.pk, "items": ["t-food", "t-water"], "days": DAYS, "seed": SEED}
    chinese = client_for("director", "zh-hans").get("/relief/rounds/preview/", params).content.decode()
    english = client_for("director").get("/relief/rounds/preview/", params).content.decode()
    said = {language: re.findall(r'<span class="why" title="([^"]*)">', page)
            for language, page in (("zh", chinese), ("en", english))}
    assert any(said["en"]) and len(said["zh"]) == len(said["en"])
    assert any(re.search(r"[A-Za-z]", reason) for reason in said["en"])
    assert not [reason for reason in said["zh"] if re.search(r"[A-Za-z]", reason)], said["zh"]


def test_a_round_without_needs_or_without_stock_previews_but_cannot_be_confirmed(world: World, grid: Place) -> None:
    user, scope = login("director")
    client = client_for("director")
    empty = client.get("/relief/rounds/preview/", {"places": grid.pk, "items": ["t-insulin"], "days": DAYS})
    assert empty.status_code == 200 and empty.context["n_requests"] == 0
    with pytest.raises(Invalid, match="no open needs"):
        services.round_confirm(user=user, scope=scope, place_ids=[grid.pk], item_codes=["t-insulin"], days=DAYS,
                               policy="equity", seed=SEED)
    services.need_file(user=user, scope=scope, household_id=world.households[0].pk, item="t-insulin", quantity=1,
                       key=key())
    with pytest.raises(Invalid, match="no stock"):
        services.round_confirm(user=user, scope=scope, place_ids=[grid.pk], item_codes=["t-insulin"], days=DAYS,
                               policy="equity", seed=SEED)
    assert not AllocationRound.objects.exists()


def test_rules_of_a_version_this_code_does_not_know_are_named_by_their_number_only() -> None:
    """An older round's stored code is not shown either: its number stands for it."""
    from django.utils import translation

    from civicgrid.relief.text import rule_version_label

    with translation.override("en"):
        assert rule_version_label("relief-2025.3: tier 0 life-critical; floor_units") == "rules version 2025.3"
    with translation.override("zh-hans"):
        assert rule_version_label("relief-2025.3: tier 0 life-critical; floor_units") == "规则版本 2025.3"
