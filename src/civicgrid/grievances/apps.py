from django.utils.translation import gettext_lazy as _

from civicgrid.core import plugins


class GrievancesConfig(plugins.CivicgridApp):
    name = "civicgrid.grievances"
    label = "grievances"
    verbose_name = _("Grievances and appeals")
