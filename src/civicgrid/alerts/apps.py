from civicgrid.core import plugins


class AlertsConfig(plugins.CivicgridApp):
    name = "civicgrid.alerts"
    label = "alerts"
    verbose_name = "alerts"
