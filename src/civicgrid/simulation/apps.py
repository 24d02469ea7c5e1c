from civicgrid.core import plugins


class SimulationConfig(plugins.CivicgridApp):
    name = "civicgrid.simulation"
    label = "simulation"
    verbose_name = "simulation"
