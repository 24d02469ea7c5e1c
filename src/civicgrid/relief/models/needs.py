"""Needs: what a household needs of one item (:class:`Need`) and each submission of it (:class:`NeedFiling`),
with ``URGENCIES`` and ``CHANNELS``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from civicgrid.core.limits import NOTE_CEILING, QUANTITY_CEILING
from civicgrid.registry.models import Household
from civicgrid.relief.models.catalogue import CATEGORIES, Item, _choices

URGENCIES = {
    "critical": _("Life-critical (e.g. insulin, dialysis transport)"),
    "urgent": _("Urgent (within a day)"),
    "normal": _("Normal"),
}
CHANNELS = {"self": _("Filed by the household"), "phone": _("Phone call"), "visit": _("Door visit")}


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
        return f"{self.key} → #{self.need_id}"
