"""What the accounts app contributes to the platform (see civicgrid.core.plugins)."""

from django.utils.translation import gettext_lazy as _

from civicgrid.accounts.events import AccountEvent
from civicgrid.core.plugins import AppPlugin

PLUGIN = AppPlugin(
    urls=True,
    periodic_jobs=("login_attempts_prune",),
    audit_events=AccountEvent,
    job_labels={"login_attempts_prune": _("Prune old log-in attempts")},
)
