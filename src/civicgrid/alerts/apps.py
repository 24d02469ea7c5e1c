from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "civicgrid.alerts"
    label = "alerts"
    verbose_name = "alerts"

    def ready(self) -> None:
        from civicgrid.alerts.models import Acknowledgement, Alert, Clarification, Delivery
        from civicgrid.core.scoping import ScopeRule, register

        # An alert is seen from inside its area and from the places containing it.
        register(Alert, ScopeRule(serving_area_path="area_path"))
        register(Delivery, ScopeRule(via=("alert", Alert)))
        register(Acknowledgement, ScopeRule(via=("alert", Alert)))
        register(Clarification, ScopeRule(via=("alert", Alert)))
