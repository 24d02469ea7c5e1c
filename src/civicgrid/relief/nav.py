from django.utils.translation import gettext_lazy as _

from civicgrid.core.plugins import NavItem

NAV = [
    NavItem("relief:needs", _("Needs"), "relief", 30),
    NavItem("relief:tasks", _("Deliveries"), "relief", 31),
    NavItem("relief:rounds", _("Allocation"), "relief_manage", 32),
    NavItem("relief:stock", _("Stock"), "relief_manage", 33),
    NavItem("relief:offers", _("Offers"), "relief_manage", 34),
]
