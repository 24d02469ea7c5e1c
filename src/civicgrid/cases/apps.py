from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "civicgrid.cases"
    label = "cases"
    verbose_name = "cases"

    def ready(self) -> None:
        from civicgrid.cases.models import Case, CaseEvent
        from civicgrid.core.scoping import ScopeRule, register

        # Seen where it lies, by the household concerned, and by the actor handling it.
        register(Case, ScopeRule(record_path="place_path", household="household_id", actor="handler_id"))
        register(CaseEvent, ScopeRule(via=("case", Case)))
