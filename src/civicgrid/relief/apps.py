from civicgrid.core import plugins


class ReliefConfig(plugins.CivicgridApp):
    name = "civicgrid.relief"
    label = "relief"
    verbose_name = "relief"
