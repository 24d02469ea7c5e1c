from civicgrid.core import plugins


class HomeConfig(plugins.CivicgridApp):
    name = "civicgrid.home"
    label = "home"
    verbose_name = "home"
