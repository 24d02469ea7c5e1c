"""Voting without an account: ballot codes per household (or adult resident) and paper ballots entered twice.

The secret-ballot design and its limits are in :mod:`civicgrid.fund.models`: the has-voted marker
(:class:`Voter`) and the ballot (:class:`Ballot`) are written in the same transaction but share no key.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.utils.translation import gettext as _

from civicgrid.core import audit
from civicgrid.core.crypto import digest, digests
from civicgrid.core.errors import Conflict, Invalid, NotFound
from civicgrid.core.limits import bounded_text, whole_number
from civicgrid.core.locking import locked, serialised
from civicgrid.core.scoping import Scope, get_in_scope, require
from civicgrid.engine.budgeting import knapsack_ballot_fits
from civicgrid.fund.events import FundEvent
from civicgrid.fund.models import Ballot, BallotChoice, Fund, PaperSheet, Proposal, Round, Voter
from civicgrid.fund.services.ledger import yuan
from civicgrid.fund.services.rounds import phase
from civicgrid.registry.models import Household, Place, Resident

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # 32 characters, none easily misread (no 0/O, 1/I)
CODE_LENGTH = 12  # 60 bits: guessing a code is hopeless, a household reads it off its slip
VOTING_AGE = 18  # the Organic Law of Urban Residents' Committees: residents of 18 and over vote
SERIAL = re.compile(r"^[A-Za-z0-9-]{1,20}$")


def _clean_code(code: str) -> str:
    return "".join(ch for ch in str(code or "").upper() if ch.isalnum())[:64]


def _code_digests(round_id: int, code: str) -> list[str]:
    return digests(f"FUNDCODE{round_id}:{_clean_code(code)}")


def _slot_digests(round_id: int, code: str) -> list[str]:
    # another label: the slot cannot be computed from the stored code digest, only from the code itself
    return digests(f"FUNDSLOT{round_id}:{_clean_code(code)}")


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i:i + 4] for i in range(0, CODE_LENGTH, 4))


@dataclass(frozen=True)
class IssuedCode:
    household: str
    address: str
    resident: str
    code: str


def _eligible(round: Round, grid: Place) -> list[tuple[Household, Resident | None]]:
    households = list(Household.objects.filter(grid=grid).order_by("code"))
    if round.unit == Round.Unit.HOUSEHOLD:
        return [(h, None) for h in households]
    on = round.voting_open.date()
    adults = Resident.objects.filter(household__in=households).select_related("household").order_by("household__code", "id")
    return [(r.household, r) for r in adults if age_on(r.birth_date, on) >= VOTING_AGE]


def age_on(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


@serialised
def codes_issue(*, user: Any, scope: Scope, round_id: int, grid_id: int,
                household_ids: Iterable[int] | None = None) -> list[IssuedCode]:
    """Codes for the grid's voters who have none (or new codes for the given households that have not
    voted: a lost slip). The codes are returned once, for the printed sheet; only their digests are kept."""
    require(scope, "fund_codes")
    round = get_in_scope(Round.objects.select_related("fund__community"), scope, pk=round_id)
    locked(Fund.objects.filter(pk=round.fund_id)).get()  # one order of locks: fund, round, then its voters
    round = locked(Round.objects.select_related("fund__community").filter(pk=round.pk)).get()
    grid = get_in_scope(Place.objects.filter(level="grid", parent=round.fund.community), scope, pk=grid_id)
    if phase(round) in {"counting", "implementation"}:
        raise Conflict(_("The vote is closed."))
    wanted = set(household_ids) if household_ids is not None else None
    existing = {(v.household_id, v.resident_id): v for v in locked(Voter.objects.filter(round=round, household__grid=grid))}
    issued: list[IssuedCode] = []
    touched: list[int] = []
    for household, resident in _eligible(round, grid):
        voter = existing.get((household.pk, resident.pk if resident else None))
        if wanted is None and voter is not None and voter.code_digest:
            continue
        if wanted is not None and household.pk not in wanted:
            continue
        if voter is not None and voter.voted:
            if wanted is not None:
                raise Conflict(_("Household %(code)s has already voted: its code cannot be replaced.")
                               % {"code": household.code})
            continue
        code = new_code()
        code_digest = digest(f"FUNDCODE{round.pk}:{_clean_code(code)}")
        if voter is None:
            voter = Voter.objects.create(round=round, household=household, resident=resident, code_digest=code_digest)
        else:
            Voter.objects.filter(pk=voter.pk).update(code_digest=code_digest)
        touched.append(voter.pk)
        issued.append(IssuedCode(household.code, household.address, resident.name if resident else "", code))
    if wanted is not None and not issued:
        raise Invalid({"household": _("No such household in this grid.")})
    audit.record_bulk(user=user, event=FundEvent.CODES_ISSUED, model=Voter, ids=touched,
                      counts={}, place_path=grid.path,
                      summary=round.title)
    return issued


@dataclass(frozen=True)
class BallotView:
    round: Round
    chosen: frozenset[int]
    revision: int  # 0: no ballot yet
    voted_on_paper: bool


def ballot_lookup(*, round_id: int, code: str) -> BallotView:
    """What a code's holder sees: the round and their current ballot (a read; the code is the credential)."""
    round = Round.objects.select_related("fund__community").filter(pk=round_id).first()
    if round is None:
        raise Invalid({"code": _("This code is not valid for this round.")})
    voter = Voter.objects.filter(round=round, code_digest__in=_code_digests(round.pk, code)).first()
    if voter is None:
        raise Invalid({"code": _("This code is not valid for this round.")})
    ballot = Ballot.objects.filter(round=round, slot__in=_slot_digests(round.pk, code)).first()
    chosen = frozenset(ballot.choices.values_list("proposal_id", flat=True)) if ballot else frozenset()
    return BallotView(round, chosen, ballot.revision if ballot else 0, voter.channel == Voter.Channel.PAPER)


def _check_choices(round: Round, proposal_ids: Iterable[int]) -> list[Proposal]:
    ids = list(dict.fromkeys(whole_number(i, "choices", maximum=2**62) for i in proposal_ids))
    if not ids:
        raise Invalid({"choices": _("Choose at least one project.")})
    chosen = list(round.proposals.filter(pk__in=ids, status=Proposal.Status.FEASIBLE))
    if len(chosen) != len(ids):
        raise Invalid({"choices": _("Choose only projects on this round's ballot.")})
    if round.method == Round.Method.APPROVAL and round.max_choices and len(ids) > round.max_choices:
        raise Invalid({"choices": _("Choose at most %(n)d projects.") % {"n": round.max_choices}})
    if round.method == Round.Method.KNAPSACK and not knapsack_ballot_fits(costs=[p.cost_fen for p in chosen],
                                                                          budget=round.budget_fen):
        raise Invalid({"choices": _("Together these projects cost more than the budget of %(budget)s yuan.")
                       % {"budget": yuan(round.budget_fen)}})
    return chosen


def _voting_round(round_id: int) -> Round:
    found = Round.objects.filter(pk=round_id).values_list("fund_id", flat=True).first()
    if found is None:
        raise NotFound()
    locked(Fund.objects.filter(pk=found)).get()
    round = locked(Round.objects.select_related("fund__community").filter(pk=round_id)).get()
    current = phase(round)
    if current != "voting":
        raise Conflict(_("The vote is closed.") if current in {"counting", "implementation"}
                       else _("The vote has not opened yet."))
    return round


@serialised
def ballot_cast(*, user: Any, scope: Scope, round_id: int, code: str, proposal_ids: Iterable[int],
                revision: int) -> int:
    """Cast (or change, while the vote is open) the ballot of a code's holder; returns the new revision.

    ``revision`` is the one the voter's page showed (0 before the first vote): a ballot changed meanwhile
    (the same code used twice at once) is refused, so each change is made knowing the one before. No
    account is needed (``user`` and ``scope`` are those of whoever holds the code, often nobody)."""
    round = _voting_round(round_id)
    voter = locked(Voter.objects.filter(round=round, code_digest__in=_code_digests(round.pk, code))).first()
    if voter is None:
        raise Invalid({"code": _("This code is not valid for this round.")})
    if voter.channel == Voter.Channel.PAPER:
        raise Conflict(_("This household has already voted on paper."))
    ballot = locked(Ballot.objects.filter(round=round, slot__in=_slot_digests(round.pk, code))).first()
    if voter.voted and ballot is None:
        raise Conflict(_("This household has already voted with an earlier code."))
    current = ballot.revision if ballot else 0
    if whole_number(revision, "revision", minimum=0, maximum=2**31) != current:
        raise Conflict(_("This ballot was changed meanwhile (perhaps in another window): open it again and vote."))
    chosen = _check_choices(round, proposal_ids)
    if ballot is None:
        ballot = Ballot.objects.create(round=round, slot=digest(f"FUNDSLOT{round.pk}:{_clean_code(code)}"))
    else:
        Ballot.objects.filter(pk=ballot.pk).update(revision=current + 1)
        ballot.choices.all().delete()
    BallotChoice.objects.bulk_create([BallotChoice(ballot=ballot, proposal=p) for p in chosen])
    Voter.objects.filter(pk=voter.pk).update(voted=True, channel=Voter.Channel.CODE)
    # audited on the round: that a ballot was cast (the event says so), never whose, which or what
    audit.record(user=user, event=FundEvent.BALLOT_CAST, instance=round)
    return current + 1


@serialised
def paper_issue(*, user: Any, scope: Scope, round_id: int, household_id: int, resident_id: int | None = None) -> Voter:
    """Hand a paper ballot sheet to a household (or an adult resident) of the registry: it counts as voted."""
    require(scope, "fund_codes")
    round = get_in_scope(Round.objects.all(), scope, pk=round_id)
    round = _voting_round(round.pk)
    household = get_in_scope(Household.objects.filter(place_path__startswith=round.fund.community.path), scope,
                             pk=household_id)
    resident = None
    if round.unit == Round.Unit.RESIDENT:
        resident = household.residents.filter(pk=resident_id or 0).first()
        if resident is None or age_on(resident.birth_date, round.voting_open.date()) < VOTING_AGE:
            raise Invalid({"resident": _("Choose an adult resident of this household.")})
    voter = locked(Voter.objects.filter(round=round, household=household, resident=resident)).first()
    if voter is None:
        voter = Voter.objects.create(round=round, household=household, resident=resident)
    if voter.voted:
        raise Conflict(_("This household has already voted (%(channel)s).") % {"channel": voter.get_channel_display()})
    Voter.objects.filter(pk=voter.pk).update(voted=True, channel=Voter.Channel.PAPER)
    audit.record(user=user, event=FundEvent.PAPER_ISSUED, instance=round, new={"household": household.code})
    return voter


@serialised
def paper_enter(*, user: Any, scope: Scope, round_id: int, serial: str, proposal_ids: Iterable[int]) -> PaperSheet:
    """One entry of a paper sheet. The first is held; a second by *another* staff member counts the sheet when
    it agrees and flags it when it does not; a director (a third person) settles a flagged sheet by entering
    it again."""
    require(scope, "fund_codes")
    round = get_in_scope(Round.objects.all(), scope, pk=round_id)
    locked(Fund.objects.filter(pk=round.fund_id)).get()
    round = locked(Round.objects.select_related("fund__community").filter(pk=round.pk)).get()
    if phase(round) not in {"voting", "counting"}:
        raise Conflict(_("Paper ballots are entered while the vote is open or before the results are published."))
    serial = bounded_text(serial, "serial", max_chars=20)
    if not SERIAL.match(serial):
        raise Invalid({"serial": _("A sheet number is 1 to 20 letters, digits or dashes.")})
    content = sorted(p.pk for p in _check_choices(round, proposal_ids))
    sheet = locked(PaperSheet.objects.filter(round=round, serial=serial)).first()
    actor = audit.acting_user(user)
    if sheet is None:
        handed = Voter.objects.filter(round=round, channel=Voter.Channel.PAPER).count()
        if PaperSheet.objects.filter(round=round).count() >= handed:
            raise Conflict(_("More paper sheets than were handed out (%(n)d).") % {"n": handed})
        sheet = PaperSheet.objects.create(round=round, serial=serial, first_by=actor, first_content=content)
    elif sheet.status == PaperSheet.Status.COUNTED:
        raise Conflict(_("Sheet %(serial)s has already been counted.") % {"serial": serial})
    elif actor is None or actor.pk in {sheet.first_by_id, sheet.second_by_id}:
        raise Conflict(_("Sheet %(serial)s must be entered again by a different staff member.") % {"serial": serial})
    elif sheet.status == PaperSheet.Status.PENDING:
        agreed = content == sheet.first_content
        PaperSheet.objects.filter(pk=sheet.pk).update(
            second_by=actor, second_content=content,
            status=PaperSheet.Status.COUNTED if agreed else PaperSheet.Status.FLAGGED)
        if agreed:
            _count(round, serial, content)
    else:  # flagged: a director's third entry settles it when it agrees with one of the two
        if not scope.may("fund_manage"):
            raise Conflict(_("The two entries of sheet %(serial)s differ: a director must check the paper.")
                           % {"serial": serial})
        if content not in (sheet.first_content, sheet.second_content):
            raise Conflict(_("This entry agrees with neither earlier entry: check the paper sheet again."))
        PaperSheet.objects.filter(pk=sheet.pk).update(status=PaperSheet.Status.COUNTED)
        _count(round, serial, content)
    sheet.refresh_from_db()
    audit.record(user=user, event=FundEvent.PAPER_ENTERED, instance=sheet,
                 new={"serial": serial, "status": sheet.status})
    return sheet


def _count(round: Round, serial: str, content: list[int]) -> None:
    ballot = Ballot.objects.create(round=round, slot=digest(f"FUNDPAPER{round.pk}:{serial.upper()}"))
    BallotChoice.objects.bulk_create([BallotChoice(ballot=ballot, proposal_id=p) for p in content])
