"""What the accounts app contributes to the platform (see civicgrid.core.plugins)."""

from civicgrid.accounts.events import AccountEvent
from civicgrid.core.plugins import AppPlugin

PLUGIN = AppPlugin(
    urls=True,
    periodic_jobs=("login_attempts_prune",),
    audit_events=AccountEvent,
)
