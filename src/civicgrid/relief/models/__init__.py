"""Relief: needs, offers, stock, allocation rounds and deliveries.

Models hold data and integrity constraints only (stock never below zero, one open need per household
and item, one filing per idempotency key); the rules live in services.py.

Split by domain, every public name re-exported here (``from civicgrid.relief.models import Need`` keeps
working; Django registers the models through these imports):

- :mod:`.catalogue`: the catalogue (``Item``, ``CATEGORIES``) and where stock is kept
  (``DistributionPoint``).
- :mod:`.stock`: donations and stock (``Offer``, ``Lot``, ``LedgerEntry``).
- :mod:`.needs`: needs and their filings (``Need``, ``NeedFiling``, ``URGENCIES``, ``CHANNELS``).
- :mod:`.rounds`: allocation rounds (``AllocationRound``, ``RoundAllocation``, ``RoundConfirmation``,
  ``SEED_CEILING``, ``MAX_ROUND_DAYS``).
- :mod:`.delivery`: deliveries (``DeliveryTask``, ``DeliveryStop``, ``DeliveryAttempt``,
  ``FAILURE_REASONS``).

Imports between them run one way: needs imports catalogue; rounds imports catalogue and needs; stock (a
ledger entry names its round) and delivery import catalogue and rounds. So there is no import cycle, and
every foreign key names its model class as before. ``QUANTITY_CEILING`` (:mod:`civicgrid.core.limits`) is
re-exported as before.
"""

from civicgrid.core.limits import QUANTITY_CEILING
from civicgrid.relief.models.catalogue import CATEGORIES, DistributionPoint, Item
from civicgrid.relief.models.delivery import (
    FAILURE_REASONS,
    DeliveryAttempt,
    DeliveryStop,
    DeliveryTask,
)
from civicgrid.relief.models.needs import CHANNELS, URGENCIES, Need, NeedFiling
from civicgrid.relief.models.rounds import (
    MAX_ROUND_DAYS,
    SEED_CEILING,
    AllocationRound,
    RoundAllocation,
    RoundConfirmation,
)
from civicgrid.relief.models.stock import LedgerEntry, Lot, Offer

__all__ = [
    "CATEGORIES",
    "CHANNELS",
    "FAILURE_REASONS",
    "MAX_ROUND_DAYS",
    "QUANTITY_CEILING",
    "SEED_CEILING",
    "URGENCIES",
    "AllocationRound",
    "DeliveryAttempt",
    "DeliveryStop",
    "DeliveryTask",
    "DistributionPoint",
    "Item",
    "LedgerEntry",
    "Lot",
    "Need",
    "NeedFiling",
    "Offer",
    "RoundAllocation",
    "RoundConfirmation",
]
