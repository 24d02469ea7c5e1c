from civicgrid.core import plugins


class AnalyticsConfig(plugins.CivicgridApp):
    name = "civicgrid.analytics"
    label = "analytics"
    verbose_name = "analytics"
