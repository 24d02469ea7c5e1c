"""Stock: donations (:class:`Offer`), the lots they become (:class:`Lot`) and every movement of a lot
(:class:`LedgerEntry`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from civicgrid.core.limits import QUANTITY_CEILING
from civicgrid.registry.models import Actor
from civicgrid.relief.models.catalogue import DistributionPoint, Item
from civicgrid.relief.models.rounds import AllocationRound


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
        return f"{self.quantity:+d} {self.item}"
