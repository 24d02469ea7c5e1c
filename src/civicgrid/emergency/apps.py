from civicgrid.core import plugins


class EmergencyConfig(plugins.CivicgridApp):
    name = "civicgrid.emergency"
    label = "emergency"
    verbose_name = "emergency"
