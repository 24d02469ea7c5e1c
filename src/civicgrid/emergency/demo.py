"""Demo data: the shipped plan and checklist templates (also installed by migration). The demo does
not switch any community to emergency mode: that is the thing to try in the browser."""

from __future__ import annotations

from civicgrid.emergency.models import ChecklistItem, ChecklistTemplate, PlanTemplate
from civicgrid.emergency.shipped import templates_install


def demo_load(*, households: int, seed: int) -> list[str]:
    templates_install(plan_model=PlanTemplate, checklist_model=ChecklistTemplate, item_model=ChecklistItem)
    return [f"emergency: {PlanTemplate.objects.count()} plan templates, "
            f"{ChecklistTemplate.objects.count()} checklist templates; every community in normal mode"]
