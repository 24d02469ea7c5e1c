"""Checklist sheets: which items are in place at a site or household on a day."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils.translation import gettext as _

from civicgrid.core import audit
from civicgrid.core.errors import Forbidden, Invalid
from civicgrid.core.locking import locked, serialised
from civicgrid.core.scoping import Scope, check_in_scope
from civicgrid.emergency.events import EmergencyEvent
from civicgrid.emergency.models import ChecklistCompletion, ChecklistTemplate
from civicgrid.registry.models import Household, Place


def subject_of(template: ChecklistTemplate, *, place: Place | None, household: Household | None) -> tuple[str, str]:
    """(subject key, place path) of a sheet, after checking the template's target."""
    if template.target == ChecklistTemplate.Target.SITE:
        if place is None or household is not None:
            raise Invalid(_("This checklist is kept for a site."))
        return f"place:{place.pk}", place.path
    if household is None or place is not None:
        raise Invalid(_("This checklist is kept for a household."))
    return f"household:{household.pk}", household.place_path


@serialised
def checklist_save(*, user: Any, scope: Scope, template: ChecklistTemplate, day: date, done_item_ids: set[int],
                   place: Place | None = None, household: Household | None = None) -> int:
    """Save a day's sheet: every active item is done or not. Returns how many items changed."""
    subject, path = subject_of(template, place=place, household=household)
    check_in_scope(scope, place or household)  # type: ignore[arg-type]
    if not (scope.may("emergency") or (household is not None and household.pk in scope.household_ids)):
        raise Forbidden(_("You may not keep this checklist."))
    items = list(template.items.filter(active=True))
    unknown = done_item_ids - {i.pk for i in items}
    if unknown:
        raise Invalid(_("Items %(ids)s are not in this checklist.") % {"ids": sorted(unknown)})
    existing = {c.item_id: c for c in locked(ChecklistCompletion.objects.all()).filter(
        template=template, subject=subject, day=day)}
    changed = 0
    for item in items:
        done = item.pk in done_item_ids
        row = existing.get(item.pk)
        if row is not None and row.done == done:
            continue
        if row is None:
            row = ChecklistCompletion.objects.create(template=template, item=item, place=place, household=household,
                                                     subject=subject, place_path=path, day=day, done=done, by=user)
            audit.record(user=user, event=EmergencyEvent.CHECKLIST_KEPT, instance=row, new=audit.snapshot(row))
        else:
            audit.update_fields(user=user, event=EmergencyEvent.CHECKLIST_KEPT, instance=row, changes={"done": done, "by": user})
        changed += 1
    return changed
