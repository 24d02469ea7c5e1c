"""Allocation rounds: the frozen round (:class:`AllocationRound`), its outcome per need
(:class:`RoundAllocation`) and a large round's background confirmation (:class:`RoundConfirmation`), with
``SEED_CEILING`` and ``MAX_ROUND_DAYS``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import Exact, LessThanOrEqual
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from civicgrid.core.models import SavedRun
from civicgrid.core.packed import PackedJSONField
from civicgrid.engine.allocation import POLICIES
from civicgrid.registry.models import Household, Place
from civicgrid.relief.models.catalogue import Item
from civicgrid.relief.models.needs import Need


class AllocationRound(models.Model):
    """A confirmed allocation, frozen: ``snapshot`` holds the requests (weights, tiers, floors, times),
    the stock, the policy, the seed and the rule versions it used, so :func:`services.round_recompute`
    gives the same numbers whatever happens to the registry afterwards."""

    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="allocation_rounds",
                              help_text=_("the smallest place holding the round's scope"))
    place_paths = models.JSONField(default=list)
    item_codes = models.JSONField(default=list)
    policy = models.CharField(_("policy"), max_length=16)
    seed = models.BigIntegerField(_("seed"))
    days = models.PositiveSmallIntegerField(_("days covered"))
    rule_version = models.CharField(max_length=200)
    # megabytes for a district round: stored compressed, as jsonb refuses values over 256 MB (core.packed)
    snapshot = PackedJSONField()
    result = PackedJSONField()
    # the snapshot without its requests (rules, days, stock: :func:`civicgrid.relief.rounds.snapshot_summary`),
    # what the round's page shows: the whole snapshot of a district round is some 150 MB of JSON to decode
    snapshot_summary = models.JSONField(default=dict, editable=False)
    metrics = models.JSONField(default=dict)
    fingerprint = models.CharField(max_length=64)
    n_requests = models.PositiveIntegerField(default=0)
    units_allocated = models.PositiveIntegerField(default=0)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    confirmed_at = models.DateTimeField()
    due_at = models.DateTimeField()

    class Meta:
        ordering = ["-confirmed_at", "-id"]

    def __str__(self) -> str:
        # the audit log's name of the record, beside its number: the place, not the policy's code
        return str(self.place)

    @property
    def policy_label(self) -> str:
        """The policy by its name in the reader's language (never the engine's code, "fcfs")."""
        from civicgrid.relief.text import POLICY_SHORT

        return str(POLICY_SHORT.get(self.policy, self.policy))


class RoundAllocation(models.Model):
    """A round's outcome for one need, with the engine's explanation.

    A district round writes a million of these in one statement, and every index is written for every row: the
    round is found through the unique (round, need) index, and item and point (a handful of values, never looked
    up alone; deleting an item or point that is referred to is refused after one scan) have none of their own.

    Every foreign key is also checked once per row at the commit, about 3 us each. On PostgreSQL the need, the
    household and the item are therefore one composite key (need, household, item) -> the need's unique
    (id, household, item): one check instead of three, and the copies must equal the need's own (relief
    migration 0008, which says what a later migration of these three fields must do). SQLite keeps the three
    single-column keys Django declares.

    The point a request would be served from is not repeated here: the round's snapshot holds it for every request,
    and a served household's stop holds it through its task. A key nobody read cost a million checks (about 3 s)
    at a district round's commit (relief migration 0011).

    Nor is the stop: a served allocation's stop is its household's stop in the round, found by (round, household)
    (``selectors.stop_lines``, ``selectors.need_progress``). A round has one stop per household, a rule of the
    schema ((household, round) is unique, relief migration 0015), so the pair names one stop, and an allocation cannot name another household's or another round's stop, as a
    key could. The key cost a check per served need at the commit and an index entry (about 4 s at a million
    requests, relief migration 0012)."""

    round = models.ForeignKey(AllocationRound, on_delete=models.PROTECT, related_name="allocations", db_index=False)
    need = models.ForeignKey(Need, on_delete=models.PROTECT, related_name="allocations")
    # indexed with the round (Meta): a stop's lines are its household's allocations in its round
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+", db_index=False)
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="+", db_index=False)
    quantity = models.PositiveIntegerField(_("allocated"))
    need_quantity = models.PositiveIntegerField()
    floor = models.PositiveIntegerField()
    tier = models.PositiveSmallIntegerField()
    weight = models.FloatField()
    stock_coverage = models.FloatField()
    explanation = models.TextField()

    class Meta:
        ordering = ["round_id", "id"]
        constraints = [models.UniqueConstraint(fields=["round", "need"], name="relief_one_allocation_per_need")]
        indexes = [models.Index(fields=["household", "round"], name="relief_allocation_household")]

    def __str__(self) -> str:
        return f"#{self.round_id} #{self.need_id} {self.quantity}/{self.need_quantity}"


SEED_CEILING = 2**62  # a round's seed is below this (services.round_choice)
MAX_ROUND_DAYS = 30


class RoundConfirmation(SavedRun):
    """A large round's confirmation, run as a background job (:mod:`civicgrid.relief.jobs`) so that no web request
    waits a minute for it: the preview's selection, policy, seed, fingerprint and newest need (the job confirms
    exactly what was previewed, needs filed since left for the next round, or is refused when the needs it read or
    the stock changed since), and, once done, the round it made. Marked done with its round in the round's own
    transaction, so a job run again never makes a second round.
    (State, progress, error, who asked: :class:`~civicgrid.core.models.SavedRun`.)"""

    place_ids = models.JSONField(_("places"), default=list)
    item_codes = models.JSONField(pgettext_lazy("supply", "items"), default=list)
    days = models.PositiveSmallIntegerField(_("days covered"))
    policy = models.CharField(_("policy"), max_length=16)
    seed = models.BigIntegerField(_("seed"))
    fingerprint = models.CharField(max_length=64)
    # the newest need the preview read: needs filed after it wait for the next round (None: every open need)
    needs_up_to = models.BigIntegerField(_("newest need in the preview"), null=True, blank=True)
    # the places, items and days as one digest: one confirmation of a selection queued or running at a time
    selection_key = models.CharField(max_length=64, editable=False)
    n_requests = models.PositiveIntegerField(_("requests in the preview"), default=0)
    # the requester's language: the job writes in it what a confirmation within their request would have
    # (the ledger's reason), and words its refusal in it
    language = models.CharField(max_length=16, default="zh-hans", editable=False)
    round = models.ForeignKey(AllocationRound, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="confirmations", verbose_name=_("round"))

    class Meta(SavedRun.Meta):
        verbose_name = _("allocation round confirmation")
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="relief_confirmation_progress_bounds"),
            models.CheckConstraint(condition=Q(status__in=["queued", "running", "done", "failed"]),
                                   name="relief_confirmation_status_known"),
            models.CheckConstraint(condition=Q(days__gte=1, days__lte=MAX_ROUND_DAYS),
                                   name="relief_confirmation_days_bounds"),
            models.CheckConstraint(condition=Q(seed__gte=0, seed__lt=SEED_CEILING),
                                   name="relief_confirmation_seed_bounds"),
            models.CheckConstraint(condition=Q(policy__in=list(POLICIES)),
                                   name="relief_confirmation_policy_known"),
            models.CheckConstraint(condition=LessThanOrEqual(Length("fingerprint"), 64) & ~Q(fingerprint=""),
                                   name="relief_confirmation_fingerprint_bounds"),
            models.CheckConstraint(condition=LessThanOrEqual(Length("language"), 16),
                                   name="relief_confirmation_language_bounds"),
            models.CheckConstraint(condition=Q(needs_up_to__isnull=True) | Q(needs_up_to__gte=1),
                                   name="relief_confirmation_needs_up_to_an_id"),
            models.CheckConstraint(condition=Exact(Length("selection_key"), 64),
                                   name="relief_confirmation_selection_key_sha256"),
            # done exactly when its round is written (the job marks it in the round's transaction)
            models.CheckConstraint(condition=Q(status="done", round__isnull=False) | (~Q(status="done")
                                                                                     & Q(round__isnull=True)),
                                   name="relief_confirmation_done_with_round"),
            # a double tap, or two officials at once, queue one confirmation of a selection, not two rounds
            models.UniqueConstraint(fields=["selection_key"], condition=Q(status__in=["queued", "running"]),
                                    name="relief_one_confirmation_per_selection"),
        ]

    def __str__(self) -> str:
        return self.place_path  # the audit log's name of the record: no English words, no status code

    @property
    def policy_label(self) -> str:
        from civicgrid.relief.text import POLICY_SHORT

        return str(POLICY_SHORT.get(self.policy, self.policy))
