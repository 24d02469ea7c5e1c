from django.utils.translation import gettext_lazy as _

from civicgrid.core import plugins


class MediationConfig(plugins.CivicgridApp):
    name = "civicgrid.mediation"
    label = "mediation"
    verbose_name = _("Dispute mediation")
