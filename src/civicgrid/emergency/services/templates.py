"""Editing the shipped templates. Plans are edited as their YAML document, validated whole; checklist
items are edited in place (an item no longer wanted is retired, not deleted, so past sheets keep it)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from civicgrid.core import audit
from civicgrid.core.errors import Forbidden, Invalid
from civicgrid.core.locking import locked
from civicgrid.core.scoping import Scope, require
from civicgrid.emergency import plan_format as pf
from civicgrid.emergency.events import EmergencyEvent
from civicgrid.emergency.models import ChecklistItem, ChecklistTemplate, PlanTemplate


def templates_editable(scope: Scope) -> bool:
    """Plans and checklist templates apply to the whole district: only a district official (or a
    superuser) edits them; community directors read and activate them."""
    return scope.unrestricted or (scope.role == "district_official" and scope.may("emergency_manage"))


def template_editor(scope: Scope) -> None:
    """Refuse (403, with the reason) anyone who may not edit district-wide templates."""
    require(scope, "emergency")
    if not templates_editable(scope):
        raise Forbidden(_("Plans and checklists are district-wide templates: only a district official "
                          "may edit them."))


@transaction.atomic
def plan_update(*, user: Any, scope: Scope, plan: PlanTemplate, document_yaml: str) -> PlanTemplate:
    """Replace the plan's document with the edited YAML (same code and hazard); bumps its version.
    Live emergencies keep the snapshot they were activated with."""
    template_editor(scope)
    try:
        doc = pf.validate_plan(pf.load_yaml(document_yaml),
                               checklist_codes=set(ChecklistTemplate.objects.values_list("code", flat=True)))
    except pf.PlanFormatError as exc:
        raise Invalid({"document": exc.problems}) from None
    if doc["code"] != plan.code or doc["hazard"] != plan.hazard:
        raise Invalid({"document": [_("Keep the code %(code)s and the hazard %(hazard)s; copy the plan to "
                                              "change them.") % {"code": plan.code, "hazard": plan.hazard}]})
    if doc == plan.body:
        return plan
    plan = locked(PlanTemplate.objects.all()).get(pk=plan.pk)
    return audit.update_fields(user=user, event=EmergencyEvent.PLAN_EDITED, instance=plan, place_path=scope.place_path(), changes={  # type: ignore[return-value]
        "body": doc, "name_en": doc["name"]["en"], "name_zh": doc["name"]["zh"],
        "default_level": doc["default_level"], "version": plan.version + 1, "updated_by": user})


@transaction.atomic
def checklist_items_update(*, user: Any, scope: Scope, template: ChecklistTemplate, rows: list[dict[str, Any]]) -> int:
    """Apply edited rows ``{id (None for a new item), text_en, text_zh, kind, active}`` in their order.
    Returns the number of items created or changed."""
    template_editor(scope)
    items = {i.pk: i for i in locked(template.items.all())}
    changed = 0
    for order, row in enumerate(rows, start=1):
        text_en, text_zh = str(row.get("text_en") or "").strip(), str(row.get("text_zh") or "").strip()
        if not (text_en or text_zh):
            continue
        kind = row.get("kind") or ChecklistItem.Kind.ITEM
        if row.get("id") is None:
            key = slugify(text_en)[:30] or f"item{order}"
            while template.items.filter(key=key).exists():
                key = f"{key[:30]}-{order}"
            item = ChecklistItem.objects.create(template=template, key=key, order=order, kind=kind, text_en=text_en,
                                                text_zh=text_zh, active=bool(row.get("active", True)))
            audit.record(user=user, event=EmergencyEvent.CHECKLIST_EDITED, instance=item, new=audit.snapshot(item),
                         place_path=scope.place_path())
            changed += 1
            continue
        existing = items.get(int(row["id"]))
        if existing is None:
            raise Invalid(_("Item %(id)s is not in this checklist.") % {"id": row["id"]})
        before = audit.snapshot(existing)
        audit.update_fields(user=user, event=EmergencyEvent.CHECKLIST_EDITED, instance=existing,
                            place_path=scope.place_path(), changes={
            "order": order, "kind": kind, "text_en": text_en, "text_zh": text_zh, "active": bool(row.get("active"))})
        changed += audit.snapshot(existing) != before
    return changed
