from django.utils.translation import gettext_lazy as _

from civicgrid.core import plugins


class ProcurementConfig(plugins.CivicgridApp):
    name = "civicgrid.procurement"
    label = "procurement"
    verbose_name = _("Government purchase of services")
