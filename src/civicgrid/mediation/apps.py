from civicgrid.core import plugins


class MediationConfig(plugins.CivicgridApp):
    name = "civicgrid.mediation"
    label = "mediation"
    verbose_name = "dispute mediation"
