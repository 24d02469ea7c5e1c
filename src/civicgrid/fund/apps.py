from django.utils.translation import gettext_lazy as _

from civicgrid.core import plugins


class FundConfig(plugins.CivicgridApp):
    name = "civicgrid.fund"
    label = "fund"
    verbose_name = _("Community fund")
