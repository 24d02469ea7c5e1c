from django.utils.translation import gettext_lazy as _

from civicgrid.core.plugins import NavItem

NAV = [NavItem("cases:list", _("Cases"), "cases", 20)]
