"""Reads of allocation rounds: the places, items and days a round is for, checked, with its policy and
seed; the preview of every policy; stored rounds and their check against the snapshot; queued
confirmations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.core.bulk import collector_paused
from civicgrid.core.errors import Invalid
from civicgrid.core.limits import MAX_ID, whole_number
from civicgrid.core.scoping import Scope, require, scoped
from civicgrid.engine.allocation import POLICIES
from civicgrid.registry.models import Place
from civicgrid.relief import rounds, selectors
from civicgrid.relief.models import (
    MAX_ROUND_DAYS,
    SEED_CEILING,
    AllocationRound,
    Item,
    RoundAllocation,
    RoundConfirmation,
)
from civicgrid.relief.preview import round_seed

# A round's frozen inputs and outcome, read only by its recompute, and the snapshot's summary (the stock of every
# lot), read only by its page: left out of any query that brings a round along with other rows.
DECODED = ("snapshot", "result")  # megabytes for a district round, to decode
FROZEN = (*DECODED, "snapshot_summary")
ROUND_BULK = tuple(f"round__{name}" for name in FROZEN)


def round_places(*, scope: Scope) -> QuerySet[Place]:
    """Places a coordinator may run a round for: communities and grids in scope."""
    require(scope, "relief_manage")
    return scoped(Place.objects.filter(level__in=["community", "grid"]), scope).order_by("path")


def round_selection(*, scope: Scope, place_ids: list[Any], item_codes: list[str], days: Any
                    ) -> tuple[list[Place], list[Item], int]:
    """Validate a round's scope, items and days (shared by the preview and the confirmation)."""
    require(scope, "relief_manage")
    try:
        ids = [int(p) for p in place_ids]
    except (TypeError, ValueError):
        raise Invalid({"places": _("choose grids or a community")}) from None
    places = list(round_places(scope=scope).filter(pk__in=ids))
    if not places or len(places) != len(set(ids)):
        raise Invalid({"places": _("choose grids or a community in your area")})
    items = list(Item.objects.filter(code__in=item_codes, active=True))
    if not items or len(items) != len(set(item_codes)):
        raise Invalid({"items": _("choose items from the catalogue")})
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_ROUND_DAYS:
        raise Invalid({"days": _("a round covers 1 to %(max)d days") % {"max": MAX_ROUND_DAYS}})
    return places, items, days


def round_choice(*, scope: Scope, place_ids: list[Any], item_codes: list[str], days: Any, policy: str, seed: Any
                 ) -> tuple[list[Place], list[Item], int]:
    """A round's selection (:func:`round_selection`), policy and seed, checked: what a confirmation,
    now or queued, refuses before anything is read."""
    places, items, days = round_selection(scope=scope, place_ids=place_ids, item_codes=item_codes, days=days)
    round_policy(policy)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < SEED_CEILING:
        raise Invalid({"seed": _("the seed must be a whole number")})
    return places, items, days


def round_policy(policy: Any) -> str:
    """``policy`` when it is one of the engine's policies, else Invalid (the confirmation's check, also the
    preview's when a policy is named)."""
    if policy not in POLICIES:
        raise Invalid({"policy": _("unknown policy %(value)r") % {"value": policy}})
    return str(policy)


def round_cutoff(needs_up_to: Any) -> int | None:
    """A confirmation's ``needs_up_to`` (the preview's newest need: needs filed after it wait for the next round)
    when it is None or a need's id, else Invalid."""
    if needs_up_to is None:
        return None
    return whole_number(needs_up_to, "needs_up_to", minimum=1, maximum=MAX_ID)


@dataclass(frozen=True)
class RoundPreview:
    inputs: rounds.RoundInputs
    outcomes: list[rounds.PolicyOutcome]
    seed: int = 0  # the lottery's seed the outcomes were computed with (the day's default unless one was given)


@collector_paused()  # as round_confirm
def round_preview(*, scope: Scope, place_ids: list[Any], item_codes: list[str], days: Any, seed: int | None = None
                  ) -> RoundPreview:
    """Every policy on the open needs and stock now (reads only). Without ``seed``, the day's seed of the selection
    (:func:`civicgrid.relief.preview.round_seed`: reloading the preview does not change the lottery)."""
    places, items, days = round_selection(scope=scope, place_ids=place_ids, item_codes=item_codes, days=days)
    if seed is None:
        seed = round_seed(place_ids=place_ids, item_codes=item_codes, days=days, on=timezone.localdate())
    # through the package, as every caller outside it: a patch of ``selectors.round_inputs`` (a test's watch,
    # bench_round's timing of the read) reaches the preview's read too
    inputs = selectors.round_inputs(scope=scope, places=places, items=items, days=days)
    return RoundPreview(inputs, rounds.compare_policies(inputs, seed=seed), seed)


def round_list(*, scope: Scope) -> QuerySet[AllocationRound]:
    require(scope, "relief_manage")
    return scoped(AllocationRound.objects.select_related("place", "confirmed_by"), scope).defer(*FROZEN)


def round_get(*, scope: Scope, round_id: int, frozen: bool = True) -> AllocationRound:
    """A round in the scope; without ``frozen`` its snapshot and result (megabytes for a district) are not read."""
    require(scope, "relief_manage")
    found = scoped(AllocationRound.objects.select_related("place", "confirmed_by"), scope)
    return (found if frozen else found.defer(*DECODED)).get(pk=round_id)


def confirmation_list(*, scope: Scope) -> QuerySet[RoundConfirmation]:
    """Round confirmations queued as jobs, newest first (the round's page is where a done one is read)."""
    require(scope, "relief_manage")
    return scoped(RoundConfirmation.objects.select_related("requested_by"), scope)


def confirmation_get(*, scope: Scope, confirmation_id: int) -> RoundConfirmation:
    require(scope, "relief_manage")
    # the page names its round's numbers; a district round's snapshot and result are seconds to decode
    return scoped(RoundConfirmation.objects.select_related("requested_by", "round").defer(*ROUND_BULK),
                  scope).get(pk=confirmation_id)


@dataclass(frozen=True)
class RoundCheck:
    """A confirmed round recomputed from its snapshot, against what was stored."""

    requests: int
    units: int
    differing_requests: int  # allocations that differ from the stored result or rows
    metrics_identical: bool

    @property
    def identical(self) -> bool:
        return self.differing_requests == 0 and self.metrics_identical


def round_check(*, scope: Scope, round: AllocationRound) -> RoundCheck:
    """Recompute ``round`` from its frozen snapshot alone (the registry is not read) and compare."""
    require(scope, "relief_manage")
    result, metrics = rounds.recompute(round.snapshot)
    recomputed = dict(zip(result["request_id"].tolist(), result["allocated"].tolist(), strict=True))
    stored = dict(zip(round.result["request_id"], round.result["allocated"], strict=True))
    rows = dict(RoundAllocation.objects.filter(round=round).values_list("need_id", "quantity"))
    keys = recomputed.keys() | stored.keys() | rows.keys()
    differing = sum(1 for k in keys if not recomputed.get(k) == stored.get(k) == rows.get(k))
    return RoundCheck(requests=len(recomputed), units=int(sum(recomputed.values())), differing_requests=differing,
                      metrics_identical=metrics == round.metrics.get(round.policy))

