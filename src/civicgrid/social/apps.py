from django.utils.translation import gettext_lazy as _

from civicgrid.core import plugins


class SocialConfig(plugins.CivicgridApp):
    name = "civicgrid.social"
    label = "social"
    verbose_name = _("Social organisations")
