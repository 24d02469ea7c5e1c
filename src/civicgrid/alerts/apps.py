from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "civicgrid.alerts"
    label = "alerts"
    verbose_name = "alerts"
