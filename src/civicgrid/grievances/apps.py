from civicgrid.core import plugins


class GrievancesConfig(plugins.CivicgridApp):
    name = "civicgrid.grievances"
    label = "grievances"
    verbose_name = "grievances and appeals"
