"""Relief: needs, offers, stock, allocation rounds and deliveries.

Models hold data and integrity constraints only (stock never below zero, one open need per household
and item, one filing per idempotency key); the rules live in services.py.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import Exact, LessThanOrEqual
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from civicgrid.core.crypto import EncryptedCharField
from civicgrid.core.limits import NOTE_CEILING, QUANTITY_CEILING
from civicgrid.core.models import SavedRun
from civicgrid.core.packed import PackedJSONField
from civicgrid.engine.allocation import POLICIES
from civicgrid.registry.models import Actor, Household, Place

CATEGORIES = {
    "food": _("Food"),
    "water": _("Drinking water"),
    "medicine": _("Medicine"),
    "medical_transport": _("Medical transport"),
    "care": _("Care"),
    "shelter": _("Shelter"),
    "psychosocial": _("Psychosocial support"),
    "other": _("Other"),
}
URGENCIES = {
    "critical": _("Life-critical (e.g. insulin, dialysis transport)"),
    "urgent": _("Urgent (within a day)"),
    "normal": _("Normal"),
}
CHANNELS = {"self": _("Filed by the household"), "phone": _("Phone call"), "visit": _("Door visit")}
FAILURE_REASONS = {"not_home": _("Nobody at home"), "refused": _("Refused"),
                   "wrong_address": _("Wrong address")}


def _choices(labels: Mapping[str, Any]) -> list[tuple[str, Any]]:
    return list(labels.items())


class Item(models.Model):
    """A catalogue entry. ``unit_size`` says how much of ``measure`` one unit holds (a 2,100 kcal ration,
    a 5 L bottle); ``per_person_per_day`` is the default need in that measure (Sphere: 15 L water,
    2,100 kcal food); ``sphere_kind`` makes the round's floor the Sphere minimum for the household's size.
    """

    SPHERE_KINDS = {"": _("none"), "water": _("water (15 L per person per day)"),
                    "food": _("food (2,100 kcal per person per day)")}

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name (English)"), max_length=100)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100, blank=True)
    category = models.CharField(_("category"), max_length=20, choices=_choices(CATEGORIES))
    unit = models.CharField(_("unit (English)"), max_length=30, default="unit")
    unit_zh = models.CharField(_("unit (Chinese)"), max_length=30, blank=True)
    measure = models.CharField(_("measure"), max_length=10, blank=True, help_text=_("e.g. kcal or L"))
    unit_size = models.FloatField(_("measure per unit"), default=1.0)
    per_person_per_day = models.FloatField(_("default per person per day"), null=True, blank=True)
    sphere_kind = models.CharField(_("Sphere floor"), max_length=5, blank=True, default="",
                                   choices=_choices(SPHERE_KINDS))
    life_critical = models.BooleanField(_("life-critical"), default=False)
    floor_units = models.PositiveIntegerField(
        _("minimum units per request"), default=1,
        help_text=_("the floor of items without a Sphere standard, capped by the need"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["category", "code"]
        constraints = [models.CheckConstraint(condition=Q(unit_size__gt=0), name="relief_item_unit_size_positive")]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return self.name_zh if self.name_zh and (get_language() or "").startswith("zh") else self.name

    @property
    def unit_label(self) -> str:
        return self.unit_zh if self.unit_zh and (get_language() or "").startswith("zh") else self.unit

    def default_quantity(self, *, persons: int, days: float) -> int:
        """Units covering ``persons`` for ``days`` at the per-person default (at least one unit)."""
        if not self.per_person_per_day:
            return 1
        return max(1, math.ceil(persons * self.per_person_per_day * days / self.unit_size - 1e-9))


class DistributionPoint(models.Model):
    """Where stock is kept and handed out. A household draws on the point of its nearest enclosing place
    (its grid's point if there is one, else its community's)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    place = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="distribution_points",
                              verbose_name=_("serves"))
    address = models.CharField(_("address"), max_length=200, blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Offer(models.Model):
    """A donation from an actor of any sector: pledged -> received -> inspected -> in stock (or rejected).
    The donor's sector and kind are copied at pledge time, so later registry edits do not rewrite who
    gave what."""

    class Status(models.TextChoices):
        PLEDGED = "pledged", _("Pledged")
        RECEIVED = "received", _("Received")
        INSPECTED = "inspected", _("Inspected")
        IN_STOCK = "in_stock", _("In stock")
        REJECTED = "rejected", _("Rejected")

    donor = models.ForeignKey(Actor, on_delete=models.PROTECT, related_name="relief_offers",
                              verbose_name=_("donor"))
    donor_sector = models.CharField(_("donor sector"), max_length=10, editable=False)
    donor_kind = models.CharField(_("donor kind"), max_length=32, editable=False)
    item = models.ForeignKey(Item, on_delete=models.PROTECT, verbose_name=pgettext_lazy("supply", "item"))
    quantity = models.PositiveIntegerField(_("pledged quantity"))
    point = models.ForeignKey(DistributionPoint, on_delete=models.PROTECT, related_name="offers",
                              verbose_name=_("distribution point"))
    expiry = models.DateField(_("expiry date"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PLEDGED)
    received_quantity = models.PositiveIntegerField(_("received quantity"), null=True, blank=True)
    accepted_quantity = models.PositiveIntegerField(_("accepted quantity"), null=True, blank=True)
    inspection_note = models.CharField(_("inspection note"), max_length=200, blank=True)
    pledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    pledged_at = models.DateTimeField()
    received_at = models.DateTimeField(null=True, blank=True)
    inspected_at = models.DateTimeField(null=True, blank=True)
    stocked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-pledged_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="relief_offer_quantity_positive"),
            models.CheckConstraint(condition=Q(quantity__lte=QUANTITY_CEILING), name="relief_offer_quantity_bounded"),
            models.CheckConstraint(
                condition=Q(accepted_quantity__isnull=True) | Q(received_quantity__isnull=False,
                                                                accepted_quantity__lte=models.F("received_quantity")),
                name="relief_offer_accepted_within_received"),
        ]

    def __str__(self) -> str:
        return f"{self.donor} · {self.quantity} {self.item}"


class Lot(models.Model):
    """A batch of one item at one point. ``quantity`` is what is left; issues take the lot that expires
    first (lots without expiry last)."""

    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="lots")
    point = models.ForeignKey(DistributionPoint, on_delete=models.PROTECT, related_name="lots")
    quantity = models.PositiveIntegerField(_("quantity left"))
    initial_quantity = models.PositiveIntegerField(_("quantity received"))
    expiry = models.DateField(_("expiry date"), null=True, blank=True)
    received_at = models.DateTimeField()
    offer = models.OneToOneField(Offer, null=True, blank=True, on_delete=models.PROTECT, related_name="lot")
    source = models.CharField(_("source"), max_length=200, blank=True)

    class Meta:
        ordering = ["item_id", "point_id", "expiry", "id"]
        indexes = [models.Index(fields=["item", "point", "expiry"])]
        constraints = [
            # the database itself refuses negative stock, whatever the code above it does
            models.CheckConstraint(condition=Q(quantity__gte=0), name="relief_lot_quantity_not_negative"),
            models.CheckConstraint(condition=Q(quantity__lte=models.F("initial_quantity")),
                                   name="relief_lot_quantity_within_initial"),
            models.CheckConstraint(condition=Q(initial_quantity__lte=QUANTITY_CEILING),
                                   name="relief_lot_quantity_bounded"),
        ]

    def __str__(self) -> str:
        return f"{self.item} @ {self.point}: {self.quantity}"


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
        return f"#{self.pk} {self.place} {self.policy}"

    @property
    def policy_label(self) -> str:
        """The policy by its name in the reader's language (never the engine's code, "fcfs")."""
        from civicgrid.relief.text import POLICY_SHORT

        return str(POLICY_SHORT.get(self.policy, self.policy))


class LedgerEntry(models.Model):
    """One stock movement of one lot; the ledger of a lot sums to its quantity."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", _("Receipt")
        ISSUE = "issue", _("Issue")
        ALLOCATION = "allocation", _("Allocated to a round")

    at = models.DateTimeField(db_index=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    item = models.ForeignKey(Item, on_delete=models.PROTECT)
    point = models.ForeignKey(DistributionPoint, on_delete=models.PROTECT)
    lot = models.ForeignKey(Lot, on_delete=models.PROTECT, related_name="ledger")
    quantity = models.IntegerField(_("change"))
    balance_after = models.PositiveIntegerField(_("lot balance after"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    round = models.ForeignKey(AllocationRound, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="ledger")
    offer = models.ForeignKey(Offer, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger")

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [models.CheckConstraint(condition=~Q(quantity=0), name="relief_ledger_moves_something")]

    def __str__(self) -> str:
        return f"{self.kind} {self.quantity:+d} {self.item}"


class Need(models.Model):
    """What a household needs of one item. Filings for the same household and item while the need is
    open are merged into it (see :class:`NeedFiling`), never duplicated.

    On PostgreSQL the table keeps half of each page free (relief migration 0009). A district round then updates
    most needs in place, without new index entries."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ALLOCATED = "allocated", _("Allocated")
        DELIVERED = "delivered", _("Delivered")
        CANCELLED = "cancelled", _("Cancelled")

    # indexed by the unique (household, item, id) below, not alone; the item by (status, item)
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="relief_needs",
                                  verbose_name=_("household"), db_index=False)
    category = models.CharField(_("category"), max_length=20, choices=_choices(CATEGORIES))
    item = models.ForeignKey(Item, on_delete=models.PROTECT, verbose_name=pgettext_lazy("supply", "item"),
                             db_index=False)
    quantity = models.PositiveIntegerField(_("quantity"))
    urgency = models.CharField(_("urgency"), max_length=10, choices=_choices(URGENCIES), default="normal")
    note = models.CharField(_("note"), max_length=NOTE_CEILING, blank=True)  # merged: see core.limits
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    allocated_quantity = models.PositiveIntegerField(default=0)
    delivered_quantity = models.PositiveIntegerField(default=0)
    filed_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField()
    # The round's tier (:func:`civicgrid.relief.rounds.tier_of`: 0 life-critical by urgency or by the item, 1 urgent,
    # 2 normal), stored by the services that write the urgency, so that the "most urgent first" list is read
    # from an index in its order instead of sorting a district's 1.7 M needs on every request (issue 15).
    tier = models.PositiveSmallIntegerField(_("tier"), editable=False)

    class Meta:
        ordering = ["-filed_at", "-id"]
        # (status, urgency): the unmet life-critical needs every area role's home page counts, a few among a
        # district's million needs (issue 15), so only those are in it; (tier, filed_at, id): the list's "most
        # urgent first" order. A district round rewrites a million needs, and every index holding a need gets a
        # new entry for it (a status change is never a HOT update): each index here costs ~2 us a need there.
        # Deleting an item (a catalogue entry) that needs refer to is refused after one scan.
        indexes = [models.Index(fields=["status", "item"]),
                   models.Index(fields=["status", "urgency"], name="relief_need_status_urgency",
                                condition=Q(urgency="critical")),
                   models.Index(fields=["tier", "filed_at", "id"], name="relief_need_tier_order")]
        constraints = [
            # what a round's allocation row refers to in one foreign key on PostgreSQL: the need, with its
            # household and item (see RoundAllocation); it is also the index of a household's needs
            models.UniqueConstraint(fields=["household", "item", "id"], name="relief_need_of_household_item"),
            # the tier agrees with the urgency (an item's life-critical flag can only lower it to 0)
            models.CheckConstraint(condition=Q(tier=0) | Q(urgency="urgent", tier=1) | Q(urgency="normal", tier=2),
                                   name="relief_need_tier_of_urgency"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="relief_need_quantity_positive"),
            # the hard ceilings of civicgrid.core.limits (the services refuse far less, by setting)
            models.CheckConstraint(condition=Q(quantity__lte=QUANTITY_CEILING), name="relief_need_quantity_bounded"),
            models.CheckConstraint(condition=LessThanOrEqual(Length("note"), NOTE_CEILING),
                                   name="relief_need_note_bounded"),
            models.UniqueConstraint(fields=["household", "item"], condition=Q(status="open"),
                                    name="relief_one_open_need_per_household_item"),
        ]

    def __str__(self) -> str:
        return f"{self.household.code} {self.quantity} × {self.item}"


    @property
    def remaining(self) -> int:
        return max(0, self.quantity - self.allocated_quantity)


class NeedFiling(models.Model):
    """One submission (form or API) of a need: the idempotency key makes a resubmission a no-op, and a
    filing that merged into an open need shows the quantity before and after."""

    need = models.ForeignKey(Need, on_delete=models.PROTECT, related_name="filings")
    key = models.CharField(max_length=64, unique=True)
    channel = models.CharField(_("channel"), max_length=8, choices=_choices(CHANNELS))
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    quantity = models.PositiveIntegerField(_("quantity asked"))
    urgency = models.CharField(_("urgency"), max_length=10, choices=_choices(URGENCIES))
    note = models.CharField(_("note"), max_length=NOTE_CEILING, blank=True)
    at = models.DateTimeField()
    merged = models.BooleanField(default=False)
    quantity_before = models.PositiveIntegerField(default=0)
    quantity_after = models.PositiveIntegerField()

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0, quantity__lte=QUANTITY_CEILING),
                                   name="relief_filing_quantity_bounded"),
            models.CheckConstraint(condition=LessThanOrEqual(Length("note"), NOTE_CEILING),
                                   name="relief_filing_note_bounded"),
        ]

    def __str__(self) -> str:
        return f"filing {self.key} -> need {self.need_id}"


class DeliveryTask(models.Model):
    """The deliveries of one round to one building, claimed by one person at a time."""

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for a volunteer")
        CLAIMED = "claimed", _("Claimed")
        DONE = "done", _("Done")

    round = models.ForeignKey(AllocationRound, on_delete=models.PROTECT, related_name="tasks")
    building = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="+")
    place_path = models.CharField(max_length=255, db_index=True)
    point = models.ForeignKey(DistributionPoint, on_delete=models.PROTECT, related_name="+")
    organisation = models.ForeignKey(Actor, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="relief_tasks", verbose_name=_("given to"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    claimed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="relief_tasks")
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_expires_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField()
    requeued = models.PositiveIntegerField(default=0)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "place_path", "id"]
        indexes = [models.Index(fields=["status", "place_path"]), models.Index(fields=["claimed_by", "status"])]
        constraints = [
            models.CheckConstraint(condition=~Q(status="claimed") | Q(claimed_by__isnull=False),
                                   name="relief_task_claimed_has_claimant"),
            models.CheckConstraint(condition=~Q(status="open") | Q(claimed_by__isnull=True),
                                   name="relief_task_open_has_no_claimant"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.building}"


class DeliveryStop(models.Model):
    """One household's share of a task. The household proves receipt with its one-time code.

    A round writes one stop per household it serves; its lines are the household's allocations with units in
    the task's round (found by round and household: ``RoundAllocation`` says why there is no key)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("To deliver")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    task = models.ForeignKey(DeliveryTask, on_delete=models.PROTECT, related_name="stops")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="relief_stops")
    code = EncryptedCharField(_("one-time code"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    wrong_codes = models.PositiveSmallIntegerField(default=0)
    delivered_at = models.DateTimeField(null=True, blank=True)
    delivered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+")
    failure_reason = models.CharField(_("reason"), max_length=16, blank=True, choices=_choices(FAILURE_REASONS))

    class Meta:
        ordering = ["task_id", "household__code"]
        constraints = [models.UniqueConstraint(fields=["task", "household"], name="relief_one_stop_per_household")]

    def __str__(self) -> str:
        return f"{self.household.address}"


class DeliveryAttempt(models.Model):
    """Every delivery outcome, kept: a failed attempt says why."""

    stop = models.ForeignKey(DeliveryStop, on_delete=models.PROTECT, related_name="attempts")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                           related_name="+")
    at = models.DateTimeField()
    delivered = models.BooleanField()
    reason = models.CharField(_("reason"), max_length=16, blank=True, choices=_choices(FAILURE_REASONS))
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{'delivered' if self.delivered else 'failed: ' + self.reason} {self.at:%Y-%m-%d %H:%M}"


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
    (``selectors.stop_lines``, ``selectors.need_progress``). The round writes one stop per household it serves, so
    the pair names one stop, and an allocation cannot name another household's or another round's stop, as a
    key could. The key cost a check per served need at the commit and an index entry (about 4 s at a million
    requests, relief migration 0012)."""

    round = models.ForeignKey(AllocationRound, on_delete=models.PROTECT, related_name="allocations", db_index=False)
    need = models.ForeignKey(Need, on_delete=models.PROTECT, related_name="allocations")
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+")
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

    def __str__(self) -> str:
        return f"round {self.round_id}: {self.quantity} of {self.need_quantity} for need {self.need_id}"



SEED_CEILING = 2**62  # a round's seed is below this (services.round_choice)
MAX_ROUND_DAYS = 30


class RoundConfirmation(SavedRun):
    """A large round's confirmation, run as a background job (:mod:`civicgrid.relief.jobs`) so that no web request
    waits a minute for it: the preview's selection, policy, seed and fingerprint (the job confirms exactly what was
    previewed, or is refused when needs or stock changed since), and, once done, the round it made. Marked done
    with its round in the round's own transaction, so a job run again never makes a second round.
    (State, progress, error, who asked: :class:`~civicgrid.core.models.SavedRun`.)"""

    place_ids = models.JSONField(_("places"), default=list)
    item_codes = models.JSONField(pgettext_lazy("supply", "items"), default=list)
    days = models.PositiveSmallIntegerField(_("days covered"))
    policy = models.CharField(_("policy"), max_length=16)
    seed = models.BigIntegerField(_("seed"))
    fingerprint = models.CharField(max_length=64)
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
        return f"round confirmation {self.pk} ({self.status})"

    @property
    def policy_label(self) -> str:
        from civicgrid.relief.text import POLICY_SHORT

        return str(POLICY_SHORT.get(self.policy, self.policy))
