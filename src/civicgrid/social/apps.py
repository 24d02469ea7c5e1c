from civicgrid.core import plugins


class SocialConfig(plugins.CivicgridApp):
    name = "civicgrid.social"
    label = "social"
    verbose_name = "social organisations"
