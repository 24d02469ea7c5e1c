from django.apps import AppConfig


class EmergencyConfig(AppConfig):
    name = "civicgrid.emergency"
    label = "emergency"
    verbose_name = "emergency"
