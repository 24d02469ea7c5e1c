"""The fund app's reads, always through the acting scope. Nothing here reads a ballot beside a household:
turnout comes from the has-voted markers, results from the counts stored when they were published."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import QuerySet, Sum

from civicgrid.core.scoping import Scope, get_in_scope, scoped
from civicgrid.fund.models import Fund, LedgerEntry, PaperSheet, Proposal, Round, Voter
from civicgrid.fund.services.voting import VOTING_AGE, age_on
from civicgrid.registry.models import Household, Place, Resident, vulnerable_score


def funds(*, scope: Scope) -> QuerySet[Fund]:
    return scoped(Fund.objects.select_related("community"), scope)


def fund(*, scope: Scope, fund_id: int) -> Fund:
    return get_in_scope(Fund.objects.select_related("community"), scope, pk=fund_id)


def sources_by_sector(*, fund: Fund) -> dict[str, int]:
    """Money received, in fen, by the funder's sector."""
    rows = (LedgerEntry.objects.filter(fund=fund, kind=LedgerEntry.Kind.SOURCE).values("funder__sector")
            .annotate(total=Sum("amount_fen")).order_by())
    return {r["funder__sector"]: int(r["total"]) for r in rows}


def ledger(*, fund: Fund) -> QuerySet[LedgerEntry]:
    return LedgerEntry.objects.filter(fund=fund).select_related("funder", "proposal").order_by("-seq")


def rounds(*, scope: Scope) -> QuerySet[Round]:
    return scoped(Round.objects.select_related("fund__community"), scope)


def round(*, scope: Scope, round_id: int) -> Round:
    return get_in_scope(Round.objects.select_related("fund__community", "residents_body"), scope, pk=round_id)


def proposals(*, round: Round) -> QuerySet[Proposal]:
    return round.proposals.select_related("grid", "proposer").order_by("seq")


@dataclass(frozen=True)
class Turnout:
    label: str
    eligible: int
    voted: int

    @property
    def share(self) -> float | None:
        return self.voted / self.eligible if self.eligible else None


def _eligible_by_household(round: Round, grids: list[Place]) -> dict[int, int]:
    """Eligible voters per household (1 per household, or the adults) in ``grids``."""
    households = Household.objects.filter(grid__in=grids)
    if round.unit == Round.Unit.HOUSEHOLD:
        return dict.fromkeys(households.values_list("pk", flat=True), 1)
    on = round.voting_open.date()
    out: dict[int, int] = defaultdict(int)
    for household_id, born in Resident.objects.filter(household__in=households).values_list("household_id", "birth_date"):
        if age_on(born, on) >= VOTING_AGE:
            out[household_id] += 1
    return out


def turnout(*, round: Round) -> tuple[list[Turnout], list[Turnout], Turnout]:
    """Turnout by grid, by vulnerable vs other households, and overall, from the registry and the markers."""
    grids = list(Place.objects.filter(level="grid", parent=round.fund.community).order_by("code"))
    eligible = _eligible_by_household(round, grids)
    info = {h: (g, s) for h, g, s in Household.objects.filter(pk__in=list(eligible))
            .values_list("pk", "grid_id", "vulnerability_score")}
    voted: dict[int, int] = defaultdict(int)
    for household_id in Voter.objects.filter(round=round, voted=True).values_list("household_id", flat=True):
        voted[household_id] += 1
    threshold = vulnerable_score()
    by_grid = {g.pk: [0, 0] for g in grids}
    by_group = {True: [0, 0], False: [0, 0]}
    for household_id, n in eligible.items():
        grid_id, score = info[household_id]
        for bucket in (by_grid[grid_id], by_group[score >= threshold]):
            bucket[0] += n
            bucket[1] += min(voted.get(household_id, 0), n)
    grid_rows = [Turnout(g.name, *by_grid[g.pk]) for g in grids]
    group_rows = [Turnout("vulnerable", *by_group[True]), Turnout("other", *by_group[False])]
    total = Turnout("all", sum(r.eligible for r in grid_rows), sum(r.voted for r in grid_rows))
    return grid_rows, group_rows, total


@dataclass(frozen=True)
class GridCodes:
    grid: Place
    eligible: int
    issued: int
    voted: int


def code_summary(*, scope: Scope, round: Round) -> list[GridCodes]:
    """Per grid the user may see: voters in the registry, codes issued, voters marked as voted."""
    grids = list(scoped(Place.objects.filter(level="grid", parent=round.fund.community), scope).order_by("code"))
    rows = []
    for grid in grids:
        eligible = sum(_eligible_by_household(round, [grid]).values())
        voters = Voter.objects.filter(round=round, household__grid=grid)
        rows.append(GridCodes(grid, eligible, voters.exclude(code_digest="").count(), voters.filter(voted=True).count()))
    return rows


def paper_sheets(*, round: Round) -> QuerySet[PaperSheet]:
    return round.paper_sheets.select_related("first_by", "second_by").order_by("serial")

