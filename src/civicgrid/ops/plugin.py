"""What the ops app contributes to the platform (see civicgrid.core.plugins): the Jobs page for district
officials and community directors, and the health and readiness endpoints (no login)."""

from django.utils.translation import gettext_lazy as _

from civicgrid.core.plugins import AppPlugin, NavItem
from civicgrid.ops.events import OpsEvent

PLUGIN = AppPlugin(
    urls=True,
    nav=(NavItem("ops:jobs", _("Jobs"), "jobs", 95),),
    access={"district_official": ("jobs",), "community_director": ("jobs",)},
    audit_events=OpsEvent,
    periodic_jobs=("job_records_prune",),
    job_labels={"job_records_prune": _("Prune old failed job records")},
)
