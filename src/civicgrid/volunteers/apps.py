from civicgrid.core import plugins


class VolunteersConfig(plugins.CivicgridApp):
    name = "civicgrid.volunteers"
    label = "volunteers"
    verbose_name = "volunteers"
