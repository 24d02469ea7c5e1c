"""The fund, its sources and its spending: an append-only ledger whose totals the database bounds."""

from __future__ import annotations

from typing import Any

from django.db.models import F
from django.utils.translation import gettext as _

from civicgrid.core import audit
from civicgrid.core.errors import Conflict, Invalid, NotFound
from civicgrid.core.limits import bounded_text, whole_number
from civicgrid.core.locking import locked, serialised
from civicgrid.core.scoping import Scope, check_in_scope, get_in_scope, require
from civicgrid.fund.events import FundEvent
from civicgrid.fund.models import MONEY_CEILING, Fund, LedgerEntry, Proposal
from civicgrid.registry.models import Actor, Place


def money(value: Any, field: str) -> int:
    """An amount in fen, at least 1 fen and at most the ceiling."""
    return whole_number(value, field, minimum=1, maximum=MONEY_CEILING)


@serialised
def fund_open(*, user: Any, scope: Scope, community_id: int, year: int) -> Fund:
    require(scope, "fund_manage")
    community = get_in_scope(Place.objects.filter(level="community"), scope, pk=community_id)
    year = whole_number(year, "year", minimum=2000, maximum=2100)
    if Fund.objects.filter(community=community, year=year).exists():
        raise Conflict(_("This community already has a fund for %(year)d.") % {"year": year}, field="year")
    fund = Fund.objects.create(community=community, year=year)
    audit.record(user=user, event=FundEvent.FUND_OPENED, instance=fund, new={"community": community.code, "year": year})
    return fund


def _append(fund: Fund, **fields: Any) -> LedgerEntry:
    """The next ledger entry of a fund that the caller has locked (its totals already updated)."""
    last = LedgerEntry.objects.filter(fund=fund).order_by("-seq").values_list("seq", flat=True).first() or 0
    return LedgerEntry.objects.create(fund=fund, seq=last + 1, balance_after_fen=fund.received_fen - fund.spent_fen,
                                      **fields)


@serialised
def fund_receive(*, user: Any, scope: Scope, fund_id: int, funder_id: int, amount_fen: int,
                 note: str = "") -> LedgerEntry:
    """Money into the fund from a funder (any sector: the funder's sector is the source's)."""
    require(scope, "fund_manage")
    amount = money(amount_fen, "amount")
    note = bounded_text(note, "note")
    fund = get_in_scope(locked(Fund.objects.all()), scope, pk=fund_id)
    funder = Actor.objects.filter(pk=funder_id).first()
    if funder is None:
        raise Invalid({"funder": _("Choose a funder from the registry.")})
    if fund.received_fen + amount > MONEY_CEILING:
        raise Invalid({"amount": _("The fund would exceed its ceiling.")})
    Fund.objects.filter(pk=fund.pk).update(received_fen=F("received_fen") + amount)
    fund.refresh_from_db()
    entry = _append(fund, kind=LedgerEntry.Kind.SOURCE, amount_fen=amount, funder=funder, note=note,
                    by=audit.acting_user(user))
    _audit_entry(user, FundEvent.SOURCE_RECEIVED, entry)
    return entry


@serialised
def spending_record(*, user: Any, scope: Scope, proposal_id: int, amount_fen: int, note: str = "") -> LedgerEntry:
    """Spending against a winning project: never more than it was given, never more than the fund holds
    (the service refuses, and the database's checks refuse a writer that did not ask)."""
    require(scope, "fund_manage")
    amount = money(amount_fen, "amount")
    note = bounded_text(note, "note")
    proposal = Proposal.objects.select_related("round__fund").filter(pk=proposal_id).first()
    if proposal is None:
        raise NotFound()
    check_in_scope(scope, proposal.round)
    fund = locked(Fund.objects.filter(pk=proposal.round.fund_id)).get()
    proposal = locked(Proposal.objects.filter(pk=proposal.pk)).get()
    if proposal.funded_fen <= 0:
        raise Conflict(_("Only a project the vote funded can record spending."))
    if proposal.spent_fen + amount > proposal.funded_fen:
        raise Invalid({"amount": _("This would spend %(total)s yuan, more than the %(funded)s yuan the project was given.")
                       % {"total": yuan(proposal.spent_fen + amount), "funded": yuan(proposal.funded_fen)}})
    if fund.spent_fen + amount > fund.received_fen:
        raise Invalid({"amount": _("The fund holds only %(left)s yuan.") % {"left": yuan(fund.balance_fen)}})
    Proposal.objects.filter(pk=proposal.pk).update(spent_fen=F("spent_fen") + amount)
    Fund.objects.filter(pk=fund.pk).update(spent_fen=F("spent_fen") + amount)
    fund.refresh_from_db()
    entry = _append(fund, kind=LedgerEntry.Kind.SPENDING, amount_fen=amount, proposal=proposal, note=note,
                    by=audit.acting_user(user))
    _audit_entry(user, FundEvent.SPENDING_RECORDED, entry)
    return entry


def _audit_entry(user: Any, event: str, entry: LedgerEntry) -> None:
    """A ledger entry is audited as itself: its number, kind, amount, funder or project and the balance after."""
    audit.record(user=user, event=event, instance=entry, new={
        "seq": entry.seq, "kind": entry.kind, "amount_fen": entry.amount_fen, "funder": entry.funder_id,
        "proposal": entry.proposal_id, "balance_after_fen": entry.balance_after_fen})


def yuan(fen: int) -> str:
    """Fen as yuan with two decimals (1234567 -> "12,345.67")."""
    return f"{fen / 100:,.2f}"
