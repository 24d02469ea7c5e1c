from django.utils.translation import gettext_lazy as _

from civicgrid.core.plugins import NavItem

NAV = [
    NavItem("registry:places", _("Places"), "places", 10),
    NavItem("registry:households", _("Households"), "households", 11),
    NavItem("registry:actors", _("Actors"), "actors", 12),
    NavItem("registry:import", _("Import"), "import", 80),
    NavItem("registry:export", _("Export"), "export", 81),
    NavItem("registry:audit", _("Audit log"), "audit", 90),
]
