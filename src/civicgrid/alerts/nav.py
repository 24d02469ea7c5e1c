from django.utils.translation import gettext_lazy as _

from civicgrid.core.plugins import NavItem

NAV = [
    NavItem("alerts:notices", _("Notices"), "alerts", 6),
    NavItem("alerts:list", _("Alerts"), "alerts_publish", 31),
]
