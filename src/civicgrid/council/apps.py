from civicgrid.core import plugins


class CouncilConfig(plugins.CivicgridApp):
    name = "civicgrid.council"
    label = "council"
    verbose_name = "council and consultation"
