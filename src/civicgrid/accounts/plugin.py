"""What the accounts app contributes to the platform (see civicgrid.core.plugins)."""

from civicgrid.accounts.events import AccountEvent
from civicgrid.core.plugins import AppPlugin

PLUGIN = AppPlugin(
    audit_events=AccountEvent,
)
