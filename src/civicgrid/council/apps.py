from django.utils.translation import gettext_lazy as _

from civicgrid.core import plugins


class CouncilConfig(plugins.CivicgridApp):
    name = "civicgrid.council"
    label = "council"
    verbose_name = _("Council and consultation")
