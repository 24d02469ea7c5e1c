from django.apps import AppConfig


class ReliefConfig(AppConfig):
    name = "civicgrid.relief"
    label = "relief"
    verbose_name = "relief"
