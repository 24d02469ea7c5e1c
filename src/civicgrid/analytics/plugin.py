"""What the analytics app contributes to the platform (see civicgrid.core.plugins)."""

from django.utils.translation import gettext_lazy as _

from civicgrid.core.plugins import AppPlugin, NavItem

PLUGIN = AppPlugin(
    urls=True,
    nav=(
        NavItem("analytics:governance", _("Governance"), "analytics", 60),
        NavItem("analytics:crei", _("Resilience index"), "analytics", 61),
    ),
    access={"district_official": ("analytics",), "community_director": ("analytics",)},
    periodic_jobs=("analytics_tallies",),
    job_labels={"analytics_tallies": _("Recount the index figures")},
)
