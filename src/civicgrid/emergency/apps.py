from typing import Any

from django.apps import AppConfig


def _visit_households(user: Any) -> list[int]:
    """Households of the open sweep visits given to this user's person (volunteers)."""
    from civicgrid.accounts.models import Role
    from civicgrid.emergency.models import SweepVisit

    person_id = Role.objects.filter(user_id=getattr(user, "pk", None) or 0).values_list("person_id", flat=True).first()
    if not person_id:
        return []
    return list(SweepVisit.objects.filter(assignee_id=person_id, state__in=SweepVisit.TO_DO,
                                          sweep__closed_at__isnull=True).values_list("household_id", flat=True))


class EmergencyConfig(AppConfig):
    name = "civicgrid.emergency"
    label = "emergency"
    verbose_name = "emergency"

    def ready(self) -> None:
        from civicgrid.core.scoping import ScopeRule, register, register_task_households
        from civicgrid.emergency import models as m

        # An emergency is seen from inside its community and from the places above it.
        register(m.Emergency, ScopeRule(serving_area_path="community__path"))
        register(m.Drill, ScopeRule(serving_area_path="community__path"))
        register(m.Sweep, ScopeRule(serving_area_path="emergency__community__path"))
        register(m.LiveTask, ScopeRule(serving_area_path="place_path", actor="actor_id"))
        register(m.SweepVisit, ScopeRule(record_path="place_path", household="household_id"))
        register(m.Isolation, ScopeRule(record_path="place_path", household="household_id"))
        register(m.CheckIn, ScopeRule(record_path="isolation__place_path", household="isolation__household_id"))
        register(m.MissedCheckIn, ScopeRule(record_path="isolation__place_path",
                                            household="isolation__household_id"))
        register(m.ChecklistCompletion, ScopeRule(record_path="place_path", household="household_id"))
        register_task_households(_visit_households)
