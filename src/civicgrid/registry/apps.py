from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "civicgrid.registry"
    label = "registry"
    verbose_name = "registry"

    def ready(self) -> None:
        from civicgrid.core.models import AuditLog
        from civicgrid.core.scoping import ScopeRule, register
        from civicgrid.registry.models import Actor, Household, Person, Place, Post, Resident

        register(Place, ScopeRule(area_path="path"))
        register(Household, ScopeRule(record_path="place_path", household="id"))
        register(Resident, ScopeRule(record_path="household__place_path", household="household_id"))
        register(Actor, ScopeRule(actor="id", serving_area_path="service_area__path"))
        register(Post, ScopeRule(via=("actor", Actor)))
        register(Person, ScopeRule(via=("posts__actor", Actor)))
        register(AuditLog, ScopeRule(record_path="place_path"))
