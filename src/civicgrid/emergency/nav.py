from django.utils.translation import gettext_lazy as _

from civicgrid.core.plugins import NavItem

NAV = [
    NavItem("emergency:now", _("Emergency now"), "emergency", 5),
    NavItem("emergency:isolations", _("Home isolation"), "residents", 33),
    NavItem("emergency:index", _("Modes and plans"), "emergency", 34),
]
