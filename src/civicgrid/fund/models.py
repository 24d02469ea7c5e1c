"""The community public service fund and its participatory budget (issue 13, section 1).

**Fund and ledger.** One :class:`Fund` per community and year. Money comes in from sources (each a funder
:class:`~civicgrid.registry.models.Actor`, whose sector is the source's sector) and goes out as spending
against a winning project; both are rows of an append-only :class:`LedgerEntry` (numbered per fund, the
balance after each entry never below zero). The fund keeps running totals that the database itself holds
to ``spent <= received`` and ``committed <= received`` (rounds' budgets), and each project to
``spent <= funded <= cost``: a writer that skipped the service's check still cannot overspend.

**A round** (:class:`Round`) runs in dated phases: proposals, feasibility review, voting, results,
implementation (the dates are ordered by a check constraint).

**Secret ballot: the design.** A ballot is stored with no link to a household or resident:

* :class:`Voter` is the registry's list of who may vote in a round (one row per household, or per
  resident aged 18 or more when the round votes by resident) with the **has-voted marker** (``voted``,
  ``channel``) and the keyed digest of its ballot code (the code itself is shown once, on the printed
  sheet, and never stored, like the registry's ID-number digests). The marker is a flag updated in place,
  without a time, on a row created when the codes were issued: neither its time nor its row order says
  when the household voted.
* :class:`Ballot` holds a vote's content (:class:`BallotChoice` rows) and a ``slot``: a *second* keyed
  digest of the same code, with another label, so the code finds its own ballot again (to change it while
  the vote is open) but neither digest can be computed from the other or from the household without the
  code. Ballots and their choices have random (UUID) keys and no timestamps, so neither their ids nor
  their order follow the order of voting. The audit log records "a ballot was cast" on the round, never
  on a household or a ballot.
* Paper ballots are anonymous sheets: staff mark a household as voted when they hand a sheet out (checked
  against the registry), and two different staff enter each sheet by its serial number (:class:`PaperSheet`);
  a sheet counts only when both entries agree.

**Limits** (stated, not hidden): whoever holds a household's printed code can vote with it and read its
ballot (the code is the credential, as a paper polling card is); someone with the database, the field key
*and* the printed code sheet can recompute the slot and so link a ballot to a household; a database
administrator reading the database's own bookkeeping (PostgreSQL's transaction ids, SQLite's row ids, the
write-ahead log) or the web server's access log can correlate the moment a marker and a ballot were
written. Rotating the field key during a vote makes the codes issued before it unusable once the old key
is dropped: rotate between rounds. What the design guarantees is that the platform itself never stores,
shows, exports or audits a link between a household and its vote (``tests/platform/test_fund_ballot_secrecy.py``
checks that no query joins them).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from civicgrid.registry.models import Actor, Household, Place, Resident

MONEY_CEILING = 10_000_000_000  # fen (100 million yuan): no community fund comes near it
TITLE_CHARS, TEXT_CHARS, REASON_CHARS = 100, 2000, 500


class Fund(models.Model):
    community = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="funds",
                                  limit_choices_to={"level": "community"}, verbose_name=_("community"))
    year = models.PositiveSmallIntegerField(_("year"))
    received_fen = models.BigIntegerField(_("received"), default=0)
    committed_fen = models.BigIntegerField(_("given to rounds"), default=0)
    spent_fen = models.BigIntegerField(_("spent"), default=0)
    opened_at = models.DateTimeField(_("opened at"), auto_now_add=True)

    class Meta:
        verbose_name = _("community fund")
        verbose_name_plural = _("community funds")
        ordering = ["-year", "community__path"]
        constraints = [
            models.UniqueConstraint(fields=["community", "year"], name="fund_one_per_community_year"),
            models.CheckConstraint(condition=Q(year__gte=2000, year__lte=2100), name="fund_year_range"),
            models.CheckConstraint(condition=Q(received_fen__gte=0, received_fen__lte=MONEY_CEILING),
                                   name="fund_received_range"),
            models.CheckConstraint(condition=Q(spent_fen__gte=0, spent_fen__lte=F("received_fen")),
                                   name="fund_spending_within_fund"),
            models.CheckConstraint(condition=Q(committed_fen__gte=0, committed_fen__lte=F("received_fen")),
                                   name="fund_rounds_within_fund"),
        ]

    def __str__(self) -> str:
        return f"{self.community.name} {self.year}"

    @property
    def balance_fen(self) -> int:
        return self.received_fen - self.spent_fen


class LedgerQuerySet(models.QuerySet["LedgerEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("the fund ledger is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("the fund ledger is append-only")


class LedgerEntry(models.Model):
    class Kind(models.TextChoices):
        SOURCE = "source", _("money received")
        SPENDING = "spending", _("spending")

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="entries")
    seq = models.PositiveIntegerField(_("number"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    amount_fen = models.BigIntegerField(_("amount"))
    balance_after_fen = models.BigIntegerField(_("balance after"))
    funder = models.ForeignKey(Actor, null=True, blank=True, on_delete=models.PROTECT, related_name="fund_sources",
                               verbose_name=_("funder"))
    proposal = models.ForeignKey("Proposal", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="spending", verbose_name=_("project"))
    note = models.CharField(_("note"), max_length=REASON_CHARS, blank=True)
    at = models.DateTimeField(_("when"), auto_now_add=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)

    objects = LedgerQuerySet.as_manager()

    class Meta:
        verbose_name = _("fund ledger entry")
        verbose_name_plural = _("fund ledger entries")
        ordering = ["fund_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["fund", "seq"], name="fund_ledger_seq_unique"),
            models.CheckConstraint(condition=Q(amount_fen__gt=0, amount_fen__lte=MONEY_CEILING),
                                   name="fund_ledger_amount_range"),
            models.CheckConstraint(condition=Q(balance_after_fen__gte=0), name="fund_ledger_never_negative"),
            models.CheckConstraint(condition=Q(kind="source", funder__isnull=False, proposal__isnull=True)
                                   | Q(kind="spending", proposal__isnull=False, funder__isnull=True),
                                   name="fund_ledger_kind_fields"),
        ]

    def __str__(self) -> str:
        return f"{self.fund} #{self.seq}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:  # integrity, not business logic: an entry is never rewritten
            raise PermissionError("the fund ledger is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("the fund ledger is append-only")


class Round(models.Model):
    class Method(models.TextChoices):
        APPROVAL = "approval", _("approval voting")
        KNAPSACK = "knapsack", _("budget voting (knapsack)")

    class Unit(models.TextChoices):
        HOUSEHOLD = "household", _("one ballot per household")
        RESIDENT = "resident", _("one ballot per adult resident")

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="rounds", verbose_name=_("fund"))
    title = models.CharField(_("title"), max_length=TITLE_CHARS)
    budget_fen = models.BigIntegerField(_("budget"))
    method = models.CharField(_("voting method"), max_length=10, choices=Method.choices, default=Method.APPROVAL)
    unit = models.CharField(_("who votes"), max_length=10, choices=Unit.choices, default=Unit.HOUSEHOLD)
    max_choices = models.PositiveSmallIntegerField(_("most projects per ballot (0: any)"), default=0)
    partial_funding = models.BooleanField(_("partial funding of the next project"), default=False)
    residents_body = models.ForeignKey(Actor, null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="fund_rounds", verbose_name=_("residents' body deciding"))
    proposals_open = models.DateTimeField(_("proposals open"))
    review_open = models.DateTimeField(_("review starts"))
    voting_open = models.DateTimeField(_("voting opens"))
    voting_close = models.DateTimeField(_("voting closes"))
    results_published_at = models.DateTimeField(_("results published"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("participatory round")
        verbose_name_plural = _("participatory rounds")
        ordering = ["-voting_close", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(budget_fen__gt=0, budget_fen__lte=MONEY_CEILING),
                                   name="fund_round_budget_range"),
            models.CheckConstraint(condition=Q(review_open__gte=F("proposals_open"), voting_open__gte=F("review_open"),
                                               voting_close__gte=F("voting_open")),
                                   name="fund_round_phases_in_order"),
            models.CheckConstraint(condition=Q(method__in=["approval", "knapsack"]), name="fund_round_method_known"),
            models.CheckConstraint(condition=Q(unit__in=["household", "resident"]), name="fund_round_unit_known"),
            models.CheckConstraint(condition=Q(max_choices__lte=50), name="fund_round_max_choices"),
        ]

    def __str__(self) -> str:
        return self.title


class Proposal(models.Model):
    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("awaiting review")
        FEASIBLE = "feasible", _("feasible")
        REJECTED = "rejected", _("not feasible")

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="proposals", verbose_name=_("round"))
    seq = models.PositiveIntegerField(_("number"))
    title = models.CharField(_("title"), max_length=TITLE_CHARS)
    description = models.TextField(_("description"), max_length=TEXT_CHARS, blank=True)
    cost_fen = models.BigIntegerField(_("cost"))
    grid = models.ForeignKey(Place, null=True, blank=True, on_delete=models.PROTECT, related_name="fund_proposals",
                             verbose_name=_("grid"))
    proposer = models.ForeignKey(Resident, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="fund_proposals", verbose_name=_("proposed by"))
    on_paper = models.BooleanField(_("entered from paper"), default=False)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("entered by"))
    submitted_at = models.DateTimeField(_("proposed at"), auto_now_add=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SUBMITTED)
    review_reason = models.CharField(_("review reason (public)"), max_length=REASON_CHARS, blank=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    # results (written once, when the round's results are published)
    votes = models.PositiveIntegerField(_("votes"), default=0)
    rank = models.PositiveIntegerField(_("rank"), null=True, blank=True)
    outcome = models.CharField(pgettext_lazy("proposal", "outcome"), max_length=12, blank=True)
    funded_fen = models.BigIntegerField(_("funded"), default=0)
    spent_fen = models.BigIntegerField(_("spent"), default=0)

    class Meta:
        verbose_name = _("project proposal")
        verbose_name_plural = _("project proposals")
        ordering = ["round_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["round", "seq"], name="fund_proposal_seq_unique"),
            models.CheckConstraint(condition=Q(cost_fen__gte=1, cost_fen__lte=MONEY_CEILING),
                                   name="fund_proposal_cost_range"),
            models.CheckConstraint(condition=Q(funded_fen__gte=0, funded_fen__lte=F("cost_fen")),
                                   name="fund_proposal_funded_within_cost"),
            models.CheckConstraint(condition=Q(spent_fen__gte=0, spent_fen__lte=F("funded_fen")),
                                   name="fund_proposal_spent_within_funded"),
            models.CheckConstraint(condition=Q(status__in=["submitted", "feasible", "rejected"]),
                                   name="fund_proposal_status_known"),
            # a rejection always carries its public reason
            models.CheckConstraint(condition=~Q(status="rejected") | ~Q(review_reason=""),
                                   name="fund_proposal_rejection_has_reason"),
        ]

    def __str__(self) -> str:
        return self.title


class Cosign(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="cosigns", verbose_name=_("project"))
    resident = models.ForeignKey(Resident, on_delete=models.CASCADE, related_name="fund_cosigns",
                                 verbose_name=_("co-signed by"))
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("co-signature")
        verbose_name_plural = _("co-signatures")
        constraints = [models.UniqueConstraint(fields=["proposal", "resident"], name="fund_cosign_once")]

    def __str__(self) -> str:
        return f"{self.resident} / {self.proposal}"


class Voter(models.Model):
    """Who may vote in a round, with the has-voted marker (see the module docstring: no time, no ballot)."""

    class Channel(models.TextChoices):
        NONE = "", _("not voted")
        CODE = "code", _("ballot code")
        PAPER = "paper", _("paper ballot")

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="voters")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="fund_voters")
    resident = models.ForeignKey(Resident, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    code_digest = models.CharField(max_length=40, blank=True, default="")
    voted = models.BooleanField(default=False)
    channel = models.CharField(max_length=5, choices=Channel.choices, blank=True, default="")

    class Meta:
        verbose_name = _("voter")
        verbose_name_plural = _("voters")
        constraints = [
            models.UniqueConstraint(fields=["round", "household"], condition=Q(resident__isnull=True),
                                    name="fund_voter_one_per_household"),
            models.UniqueConstraint(fields=["round", "resident"], condition=Q(resident__isnull=False),
                                    name="fund_voter_one_per_resident"),
            models.UniqueConstraint(fields=["round", "code_digest"], condition=~Q(code_digest=""),
                                    name="fund_voter_code_unique"),
            models.CheckConstraint(condition=Q(voted=False, channel="") | Q(voted=True, channel__in=["code", "paper"]),
                                   name="fund_voter_marker_consistent"),
        ]

    def __str__(self) -> str:
        return f"{self.round_id}/{self.pk}"


class Ballot(models.Model):
    """A vote's content, unlinked (see the module docstring)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="ballots")
    slot = models.CharField(max_length=40)
    revision = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("ballot")
        verbose_name_plural = _("ballots")
        constraints = [models.UniqueConstraint(fields=["round", "slot"], name="fund_ballot_one_per_slot")]

    def __str__(self) -> str:
        return str(self.round_id)


class BallotChoice(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    ballot = models.ForeignKey(Ballot, on_delete=models.CASCADE, related_name="choices")
    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("ballot choice")
        verbose_name_plural = _("ballot choices")
        constraints = [models.UniqueConstraint(fields=["ballot", "proposal"], name="fund_choice_once")]

    def __str__(self) -> str:
        return str(self.proposal_id)


class PaperSheet(models.Model):
    """An anonymous paper ballot sheet, entered twice by two different staff."""

    class Status(models.TextChoices):
        PENDING = "pending", _("entered once")
        COUNTED = "counted", _("counted")
        FLAGGED = "flagged", _("entries differ")

    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="paper_sheets")
    serial = models.CharField(_("sheet number"), max_length=20)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING)
    first_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    first_content = models.JSONField(default=list)
    second_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    second_content = models.JSONField(null=True, blank=True)

    class Meta:
        verbose_name = _("paper ballot sheet")
        verbose_name_plural = _("paper ballot sheets")
        ordering = ["round_id", "serial"]
        constraints = [
            models.UniqueConstraint(fields=["round", "serial"], name="fund_paper_sheet_once"),
            models.CheckConstraint(condition=Q(second_by__isnull=True) | ~Q(second_by=F("first_by")),
                                   name="fund_paper_two_different_staff"),
            models.CheckConstraint(condition=Q(status__in=["pending", "counted", "flagged"]),
                                   name="fund_paper_status_known"),
        ]

    def __str__(self) -> str:
        return str(self.serial)
