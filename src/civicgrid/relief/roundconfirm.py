"""Confirming an allocation round (offered as ``services.round_confirm`` and ``services.round_confirm_or_queue``).

The needs are read once and the engine decides the round before the write transaction; inside it the outcome
is written if it still holds, else everything is read again under locks and decided again
(:func:`round_confirm`'s docstring says why a round stays correct either way, and where the delivery plan and
the other policies' figures are made). The rows themselves are written by :mod:`civicgrid.relief.round_writes`;
a large confirmation is queued as a job by :mod:`civicgrid.relief.confirmations`.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.core import audit, tallies
from civicgrid.core.alongside import alongside
from civicgrid.core.bulk import IdBlock, collector_paused
from civicgrid.core.errors import Conflict, Invalid
from civicgrid.core.locking import data_version, serialised_block, writer_holds_everyone
from civicgrid.core.packed import Packed
from civicgrid.core.places import common_ancestor
from civicgrid.core.scoping import Scope
from civicgrid.engine.allocation import POLICIES
from civicgrid.registry.models import Place
from civicgrid.relief import needcounts, round_writes, rounds, selectors
from civicgrid.relief.conf import relief_setting
from civicgrid.relief.confirmations import confirms_in_background, round_confirmation_request
from civicgrid.relief.crei import TALLY
from civicgrid.relief.events import ReliefEvent
from civicgrid.relief.models import AllocationRound, Item, RoundConfirmation


def _common_place(places: list[Place]) -> Place:
    return Place.objects.get(path=common_ancestor([p.path for p in places]))


ROUND_STAGES = ("read", "engine", "writing")  # what ``round_confirm`` reports to ``progress``


@collector_paused()  # a district round holds millions of objects: no full collection walks them meanwhile
def round_confirm(*, user: Any, scope: Scope, place_ids: list[Any], item_codes: list[str], days: Any,
                  policy: str, seed: int, fingerprint: str = "", needs_up_to: Any = None,
                  now: datetime | None = None, progress: Callable[[int, int], None] | None = None,
                  confirmed: Callable[[AllocationRound], None] | None = None) -> AllocationRound:
    """Allocate, freeze the snapshot, take the stock and create the delivery tasks, in one transaction.

    With ``fingerprint`` (from the preview) the round is refused if needs or stock changed since. With
    ``needs_up_to`` too (the preview's :attr:`~civicgrid.relief.rounds.RoundInputs.last_need_id`) the needs filed
    after the preview are left out: they wait for the next round instead of refusing this one (the round's audit
    event counts them). In a district, where somebody files a need every few seconds, new filings alone would
    otherwise refuse nearly every round confirmed a minute after its preview. A life-critical need among them
    still refuses it: the preview would serve it first. So does a need the preview read that changed since (more
    units asked, cancelled, served), a changed weight or changed stock: the preview no longer shows what the
    round would do.

    ``progress(done, total)`` hears each of :data:`ROUND_STAGES` as it starts, all before the write transaction
    (an update written inside it would not be seen until it commits); ``confirmed(round)`` is called inside the
    transaction once the round is written, so what it writes (a queued confirmation marked done with its round)
    commits with the round or not at all, and what it raises rolls the round back.

    The needs are read and the engine decides each one's units (the chosen policy) before the transaction, so
    the transaction does not last for the reads and the engine. Inside it the outcome is written as it stands
    when it still holds for the database as it is then:

    * the lots it takes from are locked and read again, and must be as they were (on SQLite, when the database
      has not changed since the read, :func:`civicgrid.core.locking.data_version`, they are not read again);
    * each need it gives units to must still be open with at least the units it asked for; the statement that
      takes the units checks that row by row, and locks what it writes.

    What only this process needs beyond the decision (the delivery plan with its one-time codes, the other
    policies' figures, the round's packed snapshot: :func:`_plan_and_figures`, seconds at a district's scale) is
    made, on PostgreSQL, in a second thread while the database takes the needs (:mod:`civicgrid.core.alongside`),
    inside the transaction but in time the transaction spends anyway. On SQLite, whose one write lock holds every
    other writer up, it is made before the transaction.

    The round is then what it would have been had it run alone at the moment of the read: a need filed since
    waits for the next round. Otherwise the try is rolled back (a savepoint, its audit rows with it), the needs
    and lots are read again under locks and the round is decided again there (the plan made for the try is kept
    when the needs, lots and buildings read again are those it was made from), or refused when the preview's
    fingerprint no longer holds. A million needs are thus read once, not twice, and only the needs served are
    locked."""
    places, items, days = selectors.round_choice(scope=scope, place_ids=place_ids, item_codes=item_codes, days=days,
                                                 policy=policy, seed=seed)
    needs_up_to = selectors.round_cutoff(needs_up_to)
    stage = progress or (lambda done, total: None)
    now = now or timezone.now()
    today = timezone.localdate(now)
    # SQLite: the progress updates below count as changes since the read, so a confirmation that reports its
    # progress reads its lots again under the lock (a few rows) instead of trusting this token
    version = data_version()
    stage(0, len(ROUND_STAGES))
    inputs = selectors.round_inputs(scope=scope, places=places, items=items, days=days, today=today,
                                    needs_up_to=needs_up_to)
    left, critical = (0, 0) if needs_up_to is None else selectors.round_filed_since(
        scope=scope, places=places, items=items, needs_up_to=needs_up_to)
    if critical:  # it comes before anything the preview shows: the official decides again with it in view
        raise Conflict(_("A life-critical need was filed since your preview: check the new preview, where it is "
                         "served first, and confirm again."))
    stage(1, len(ROUND_STAGES))
    chosen = _round_decision(inputs, fingerprint=fingerprint, seed=seed, policy=policy)
    frame = round_writes.outcome_frame(inputs, chosen.result)
    stage(2, len(ROUND_STAGES))
    choice = {"user": user, "places": places, "items": items, "policy": policy, "seed": seed, "days": days,
              "now": now}
    # SQLite: the transaction would hold every writer up while they are made (a second at 100,000 requests, of
    # which the needs' update covers less than half), so they are made before; PostgreSQL makes them alongside
    made = _plan_and_figures(inputs, chosen, frame, policy=policy, seed=seed) if writer_holds_everyone() else None
    with serialised_block(), audit.deferred():
        written = None
        unchanged = version is not None and data_version() == version  # SQLite: nothing written since the read
        if unchanged or _lots_as_read(inputs, items=items, today=today):
            try:
                with audit.savepoint():
                    written = _round_write(inputs=inputs, chosen=chosen, frame=frame, made=made, **choice)
            except round_writes.NeedsChanged as refused:
                made = refused.made or made  # read again below
        if written is None:  # read again, the needs and lots locked until the commit
            current = selectors.round_inputs(scope=scope, places=places, items=items, days=days, lock=True,
                                             today=today, needs_up_to=needs_up_to)
            if current.fingerprint != inputs.fingerprint:  # the engine again, under the locks
                chosen = _round_decision(current, fingerprint=fingerprint, seed=seed, policy=policy)
            if not round_writes.same_rows(inputs, current):  # other requests, lots or buildings: plan again
                made = None
            frame = round_writes.outcome_frame(current, chosen.result)
            try:
                written = _round_write(inputs=current, chosen=chosen, frame=frame, made=made, **choice)
            except round_writes.NeedsChanged:  # needs are locked now, households not: a move since the re-read
                raise Conflict(_("Needs or stock changed since your preview: check the new preview and confirm "
                                 "again.")) from None
        round, plan = written
        tallies.refresh(TALLY, parts=[round.pk])  # the CREI's counts of this round, in this transaction
        needcounts.recount(needcounts.grids_of_round(round.place_paths))  # its needs are now allocated
        audit.record(user=user, event=ReliefEvent.ROUND_CONFIRMED, instance=round, new={
            "policy": policy, "seed": seed, "days": days, "places": round.place_paths, "items": round.item_codes,
            "requests": round.n_requests, "units_allocated": round.units_allocated, "fingerprint": round.fingerprint,
            "needs_up_to": needs_up_to, "needs_left": left, "needs_served": plan.served,
            "needs_served_sha256": plan.served_sha256})
        if confirmed is not None:
            confirmed(round)
        return round


def _lots_as_read(inputs: rounds.RoundInputs, *, items: list[Item], today: date) -> bool:
    """Whether the lots ``inputs`` were read with are still the usable lots of their points, now locked."""
    homes = inputs.homes
    paths = set(homes["place_path"].tolist()) if homes is not None else set()
    codes = {code for code in selectors.round_points(paths).values() if code}
    now_lots = selectors.round_lots(items=items, point_codes=codes, today=today, lock=True)
    return inputs.lots is not None and round_writes.same_frame(now_lots, inputs.lots)


def _round_write(*, user: Any, places: list[Place], items: list[Item], inputs: rounds.RoundInputs,
                 chosen: rounds.PolicyOutcome, frame: pd.DataFrame, policy: str, seed: int, days: int,
                 now: datetime, made: _PlanAndFigures | None = None) -> tuple[AllocationRound, round_writes.Plan]:
    """Every row of the round whose chosen outcome is ``chosen`` (its :func:`round_writes.outcome_frame` is
    ``frame``): the allocations; then the needs take their units while :func:`_plan_and_figures` is made alongside
    (unless already ``made``); then the round's own row, its deliveries and the stock
    (:mod:`civicgrid.relief.round_writes`). :class:`~round_writes.NeedsChanged` when a served need or household
    changed since the read; it carries the plan and figures when they were made.

    The round's key is taken first: the allocations refer to it before its row (which holds the snapshot and
    every policy's figures) is written. Keys are checked at the commit."""
    round_id = IdBlock(AllocationRound).take(1)[0]
    round_writes.write_allocations(round_id=round_id, frame=frame, items=items)
    served = round_writes.served_needs(frame)  # read here: the block below leaves the frame to the second thread
    # PostgreSQL locks and updates the served needs (seconds at a district's scale) while the plan, the other
    # policies' figures and the round's packed columns are made in a second thread: none needs the database
    with (alongside(lambda: _plan_and_figures(inputs, chosen, frame, policy=policy, seed=seed)) if made is None
          else nullcontext(lambda: made)) as made_now:
        try:
            round_writes.take_needs(round_id=round_id, now=now, served=served)
        except round_writes.NeedsChanged as refused:  # the thread is waited for anyway: its work serves the retry
            refused.made = _made_or_none(made_now)
            raise
        ready = made_now()
    round = AllocationRound.objects.create(
        pk=round_id, place=_common_place(places), place_paths=list(inputs.place_paths),
        item_codes=list(inputs.item_codes), policy=policy, seed=seed, days=days, rule_version=rounds.RULE_VERSION,
        snapshot=ready.snapshot, snapshot_summary=rounds.snapshot_summary(ready.plan.snapshot), result=ready.result,
        metrics=ready.metrics, fingerprint=inputs.fingerprint,
        n_requests=len(chosen.result), units_allocated=int(chosen.result["allocated"].sum()),
        confirmed_by=audit.acting_user(user), confirmed_at=now,
        due_at=now + timedelta(hours=relief_setting("delivery_hours")))
    round_writes.write_deliveries(user=user, round=round, plan=ready.plan, items=items, now=now,
                                  reason=_("allocation round #%(id)d") % {"id": round.pk})
    return round, ready.plan


def _made_or_none(made: Callable[[], _PlanAndFigures | None]) -> _PlanAndFigures | None:
    """The plan and figures, or None when making them failed (the retry makes them again, and says why)."""
    try:
        return made()
    except Exception:  # noqa: BLE001 - the retry under locks plans again and raises what it meets there
        return None


def _round_decision(inputs: rounds.RoundInputs, *, fingerprint: str, seed: int, policy: str) -> rounds.PolicyOutcome:
    """The chosen policy on ``inputs``, with its sentences; refused if the preview's ``fingerprint`` no longer
    holds or there is nothing to allocate."""
    if fingerprint and inputs.fingerprint != fingerprint:
        raise Conflict(_("Needs or stock changed since your preview: check the new preview and confirm again."))
    if inputs.requests.empty:
        raise Invalid(_("There are no open needs for these items here."))
    if inputs.stock.empty:
        raise Invalid(_("There is no stock of these items at the points serving these households."))
    (chosen,) = rounds.compare_policies(inputs, seed=seed, explain=policy, policies=(policy,))
    return chosen


@dataclass(frozen=True)
class _PlanAndFigures:
    """What the round's own row and its deliveries need beyond the chosen outcome (:func:`_plan_and_figures`)."""

    plan: round_writes.Plan
    metrics: dict[str, Any]  # every policy's figures, by policy (the round keeps them side by side)
    snapshot: Packed  # the round's frozen inputs, packed (a second's work for a district)
    result: Packed  # the chosen outcome, need by need


def _plan_and_figures(inputs: rounds.RoundInputs, chosen: rounds.PolicyOutcome, frame: pd.DataFrame, *,
                      policy: str, seed: int) -> _PlanAndFigures:
    """The plan, the other policies' outcomes and the round's packed columns. Pure Python: run alongside the
    database's work in the caller's transaction, or before it."""
    others = rounds.compare_policies(inputs, seed=seed, policies=tuple(p for p in POLICIES if p != policy))
    outcomes = {o.policy: o for o in [chosen, *others]}
    try:
        plan = round_writes.plan(inputs, frame, policy=policy, seed=seed)
    except round_writes.StockChanged:
        raise Conflict(_("Needs or stock changed since your preview: check the new preview and confirm again.")
                       ) from None
    result = chosen.result
    return _PlanAndFigures(plan=plan, metrics={p: outcomes[p].metrics for p in POLICIES},
                           snapshot=Packed.of(plan.snapshot),
                           result=Packed.of({"request_id": result["request_id"].tolist(),
                                             "allocated": result["allocated"].tolist()}))


def round_confirm_or_queue(*, user: Any, scope: Scope, place_ids: list[Any], item_codes: list[str], days: Any,
                           policy: str, seed: int, fingerprint: str, needs_up_to: Any = None
                           ) -> AllocationRound | RoundConfirmation:
    """Confirm a previewed round as the allocation page and the API do: from ``background_requests`` needs waiting
    in the selection (:func:`confirms_in_background`) queued as a job (the confirmation returned, its job runs once
    this commits), else confirmed now (the round returned). Refused as either refuses.

    The needs are counted here (one count), never taken from the client (a hidden field, an API body): a count
    sent lower would have a district round confirmed within a request, outlasting the proxy's wait. A queued
    confirmation shows this count while it runs.
    """
    places, items, _days = selectors.round_choice(scope=scope, place_ids=place_ids, item_codes=item_codes,
                                                  days=days, policy=policy, seed=seed)
    needs_up_to = selectors.round_cutoff(needs_up_to)
    waiting = selectors.round_waiting(scope=scope, places=places, items=items, needs_up_to=needs_up_to)
    choice = {"place_ids": place_ids, "item_codes": item_codes, "days": days, "policy": policy, "seed": seed,
              "fingerprint": fingerprint, "needs_up_to": needs_up_to}
    if confirms_in_background(waiting):
        return round_confirmation_request(user=user, scope=scope, n_requests=waiting, **choice)
    return round_confirm(user=user, scope=scope, **choice)
