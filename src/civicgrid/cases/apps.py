from civicgrid.core import plugins


class CasesConfig(plugins.CivicgridApp):
    name = "civicgrid.cases"
    label = "cases"
    verbose_name = "cases"
