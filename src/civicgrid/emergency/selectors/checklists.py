"""Checklist sheets and their daily progress."""

from __future__ import annotations

from datetime import date

from django.db.models import Count, Q, QuerySet

from civicgrid.core.scoping import Scope, require, scoped
from civicgrid.emergency.models import ChecklistCompletion, ChecklistTemplate


def sheet(*, scope: Scope, template: ChecklistTemplate, subject: str, day: date) -> set[int]:
    """Ids of the items done on ``day`` for ``subject`` (place:<id> or household:<id>)."""
    return set(scoped(ChecklistCompletion.objects.filter(template=template, subject=subject, day=day, done=True),
                      scope).values_list("item_id", flat=True))


def progress(*, scope: Scope, template: ChecklistTemplate, day: date) -> dict[str, int]:
    """subject -> items done on ``day``, over the sheets the scope may see."""
    require(scope, "residents")
    rows = scoped(ChecklistCompletion.objects.filter(template=template, day=day), scope).values("subject").annotate(
        done=Count("id", filter=Q(done=True, item__active=True)))
    return {r["subject"]: r["done"] for r in rows}


def completions(*, scope: Scope, template: ChecklistTemplate) -> QuerySet[ChecklistCompletion]:
    return scoped(ChecklistCompletion.objects.filter(template=template), scope)
