from civicgrid.core import plugins


class RegistryConfig(plugins.CivicgridApp):
    name = "civicgrid.registry"
    label = "registry"
    verbose_name = "registry"
