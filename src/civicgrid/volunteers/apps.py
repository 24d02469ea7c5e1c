from django.utils.translation import gettext_lazy as _

from civicgrid.core import plugins


class VolunteersConfig(plugins.CivicgridApp):
    name = "civicgrid.volunteers"
    label = "volunteers"
    verbose_name = _("Volunteers")
