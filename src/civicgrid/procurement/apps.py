from civicgrid.core import plugins


class ProcurementConfig(plugins.CivicgridApp):
    name = "civicgrid.procurement"
    label = "procurement"
    verbose_name = "government purchase of services"
