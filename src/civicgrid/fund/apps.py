from civicgrid.core import plugins


class FundConfig(plugins.CivicgridApp):
    name = "civicgrid.fund"
    label = "fund"
    verbose_name = "community fund"
