"""An audit row in the reader's language: the record's kind, each changed field by its label and each
value by its label (a choice's label, yes/no, the text in the reader's language of a bilingual value),
instead of the stored column names and codes. The log itself keeps what it stored (the hash chain covers
it); this is only how the page shows it."""

from __future__ import annotations

import json
from typing import Any

from django.apps import apps
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import get_language, gettext_lazy, pgettext_lazy

# The labels carry the context "audit" ("item" here is a relief item, not a checklist's).

# Keys of summarising rows (an import, a round, a bulk of tasks) that are not a model's fields.
SUMMARY_KEYS: dict[str, Any] = {
    "actors": pgettext_lazy("audit", "actors"),
    "households": pgettext_lazy("audit", "households"),
    "people": pgettext_lazy("audit", "people"),
    "places": pgettext_lazy("audit", "places"),
    "posts": pgettext_lazy("audit", "posts"),
    "records": pgettext_lazy("audit", "records"),
    "residents": pgettext_lazy("audit", "residents"),
    "ids_sha256": pgettext_lazy("audit", "fingerprint of the records"),
    "fingerprint": pgettext_lazy("audit", "fingerprint of the inputs"),
    "days": pgettext_lazy("audit", "days"),
    "items": pgettext_lazy("audit", "items"),
    "policy": pgettext_lazy("audit", "policy"),
    "requests": pgettext_lazy("audit", "requests"),
    "seed": pgettext_lazy("audit", "seed"),
    "units_allocated": pgettext_lazy("audit", "units allocated"),
    "units": pgettext_lazy("audit", "units"),
    "lots": pgettext_lazy("audit", "lots"),
    "ledger_entries": pgettext_lazy("audit", "ledger entries"),
    "needs_served": pgettext_lazy("audit", "needs served"),
    "needs_served_sha256": pgettext_lazy("audit", "fingerprint of the needs served"),
    "needs_up_to": pgettext_lazy("audit", "newest need in the preview"),
    "needs_left": pgettext_lazy("audit", "needs filed since the preview, left for the next round"),
    "round": pgettext_lazy("audit", "allocation round"),
    "stops": pgettext_lazy("audit", "stops"),
    "tasks": pgettext_lazy("audit", "tasks"),
    "live_tasks": pgettext_lazy("audit", "live tasks"),
    "opening_alert": pgettext_lazy("audit", "opening alert"),
    "visits": pgettext_lazy("audit", "visits"),
    "n_households": pgettext_lazy("audit", "households"),
    "queued_deliveries": pgettext_lazy("audit", "messages queued"),
    "action": pgettext_lazy("audit", "action"),
    "quantity_before": pgettext_lazy("audit", "quantity before"),
    "quantity_after": pgettext_lazy("audit", "quantity after"),
    "merged": pgettext_lazy("audit", "merged with an earlier filing"),
    "id": pgettext_lazy("audit", "number"),
    "channels": pgettext_lazy("audit", "channels"),
    "command": pgettext_lazy("audit", "command structure"),
    "stock_targets": pgettext_lazy("audit", "stock targets"),
    "review_facts": pgettext_lazy("audit", "review facts"),
    "count": pgettext_lazy("audit", "count"),
    "rows": pgettext_lazy("audit", "rows"),
    "created": pgettext_lazy("audit", "added"),
    "updated": pgettext_lazy("audit", "changed"),
    "unchanged": pgettext_lazy("audit", "unchanged"),
    "reason": pgettext_lazy("audit", "reason"),
    "to": pgettext_lazy("audit", "to"),
    "from": pgettext_lazy("audit", "from"),
}

# Labels of fields whose models give none of their own (Django would show the column's English name), and
# of the models named in the log.
FIELD_WORDS: dict[str, Any] = {
    "activated_at": pgettext_lazy("audit", "activated at"),
    "activated_by": pgettext_lazy("audit", "activated by"),
    "actor": pgettext_lazy("audit", "actor"),
    "allocated_quantity": pgettext_lazy("audit", "allocated quantity"),
    "at": pgettext_lazy("audit", "time"),
    "channels": pgettext_lazy("audit", "channels"),
    "closed_at": pgettext_lazy("audit", "closed at"),
    "closing_alert": pgettext_lazy("audit", "closing alert"),
    "command": pgettext_lazy("audit", "command structure"),
    "community": pgettext_lazy("audit", "community"),
    "created_at": pgettext_lazy("audit", "created at"),
    "created_by": pgettext_lazy("audit", "created by"),
    "day": pgettext_lazy("audit", "day"),
    "deactivated_at": pgettext_lazy("audit", "deactivated at"),
    "deactivated_by": pgettext_lazy("audit", "deactivated by"),
    "delivered_quantity": pgettext_lazy("audit", "delivered quantity"),
    "dispatched_at": pgettext_lazy("audit", "dispatched at"),
    "due_at": pgettext_lazy("audit", "due at"),
    "emergency": pgettext_lazy("audit", "emergency"),
    "filed_at": pgettext_lazy("audit", "filed at"),
    "filed_by": pgettext_lazy("audit", "filed by"),
    "finished_at": pgettext_lazy("audit", "finished at"),  # a background run's (core.models.SavedRun)
    "fingerprint": pgettext_lazy("audit", "fingerprint of the inputs"),
    "flagged_at": pgettext_lazy("audit", "flagged at"),
    "handled_at": pgettext_lazy("audit", "handled at"),
    "household": pgettext_lazy("audit", "household"),
    "isolation": pgettext_lazy("audit", "home isolation"),
    "item": pgettext_lazy("audit", "item"),
    "key": pgettext_lazy("audit", "idempotency key"),
    "level_due_at": pgettext_lazy("audit", "due at this level"),
    "level": pgettext_lazy("audit", "level"),
    "merged": pgettext_lazy("audit", "merged with an earlier filing"),
    "n_households": pgettext_lazy("audit", "households"),
    "need": pgettext_lazy("audit", "need"),
    "offer": pgettext_lazy("audit", "offer"),
    "opening_alert": pgettext_lazy("audit", "opening alert"),
    "person": pgettext_lazy("audit", "person"),
    "place_path": pgettext_lazy("audit", "place"),
    "place": pgettext_lazy("audit", "place"),
    "plan_version": pgettext_lazy("audit", "plan version"),
    "plan": pgettext_lazy("audit", "plan"),
    "point": pgettext_lazy("audit", "distribution point"),
    "published_by": pgettext_lazy("audit", "published by"),
    "quantity_after": pgettext_lazy("audit", "quantity after"),
    "quantity_before": pgettext_lazy("audit", "quantity before"),
    "received_at": pgettext_lazy("audit", "received at"),
    "registered_at": pgettext_lazy("audit", "registered at"),
    "reported_at": pgettext_lazy("audit", "reported at"),
    "reporter_label": pgettext_lazy("audit", "reported by (name)"),
    "reporter": pgettext_lazy("audit", "reporter"),
    "requested_by": pgettext_lazy("audit", "requested by"),
    "rerun_of": pgettext_lazy("audit", "rerun of"),
    "resident": pgettext_lazy("audit", "resident"),
    "resolved_at": pgettext_lazy("audit", "resolved at"),
    "review_facts": pgettext_lazy("audit", "review facts"),
    "round": pgettext_lazy("audit", "allocation round"),
    "sender_name": pgettext_lazy("audit", "sender"),
    "source": pgettext_lazy("audit", "source"),
    "state": pgettext_lazy("audit", "state"),
    "status": pgettext_lazy("audit", "status"),
    "stock_targets": pgettext_lazy("audit", "stock targets"),
    "units_allocated": pgettext_lazy("audit", "units allocated"),
    "units": pgettext_lazy("audit", "units"),
    "lots": pgettext_lazy("audit", "lots"),
    "ledger_entries": pgettext_lazy("audit", "ledger entries"),
    "needs_served": pgettext_lazy("audit", "needs served"),
    "needs_served_sha256": pgettext_lazy("audit", "fingerprint of the needs served"),
    "updated_at": pgettext_lazy("audit", "updated at"),
    "user": pgettext_lazy("audit", "user"),
    "verified_at": pgettext_lazy("audit", "verified at"),
    "vulnerable_reached_at": pgettext_lazy("audit", "vulnerable households reached at"),
    "drill": pgettext_lazy("audit", "drill"),
    "is_drill": pgettext_lazy("audit", "drill"),
    "expires_at": pgettext_lazy("audit", "expires at"),
    "sent_at": pgettext_lazy("audit", "sent at"),
    "references": pgettext_lazy("audit", "replaces alert"),
    "category": pgettext_lazy("audit", "category"),
    "handler": pgettext_lazy("audit", "handler"),
    "identity_clearance": pgettext_lazy("audit", "may see full ID numbers"),
    "role": pgettext_lazy("audit", "role"),
    "by": pgettext_lazy("audit", "recorded by"),
    "for_resident": pgettext_lazy("audit", "recorded for the resident"),
    "filed": pgettext_lazy("audit", "filed as"),
}
MODEL_WORDS: dict[str, Any] = {
    "case": pgettext_lazy("audit", "case"),
    "login attempt": pgettext_lazy("audit", "log-in attempt"),
    "need filing": pgettext_lazy("audit", "need filing"),
    "need": pgettext_lazy("audit", "need"),
    "allocation round": pgettext_lazy("audit", "allocation round"),
    "delivery task": pgettext_lazy("audit", "delivery task"),
    "delivery stop": pgettext_lazy("audit", "delivery stop"),
    "lot": pgettext_lazy("audit", "stock lot"),
    "missed check in": pgettext_lazy("audit", "missed check-in"),
    "isolation": pgettext_lazy("audit", "home isolation"),
    "emergency": pgettext_lazy("audit", "emergency"),
    "sweep": pgettext_lazy("audit", "door-to-door sweep"),
    "sweep visit": pgettext_lazy("audit", "sweep visit"),
    "alert": pgettext_lazy("audit", "alert"),
    "role": pgettext_lazy("audit", "role"),
    "by": pgettext_lazy("audit", "recorded by"),
    "for_resident": pgettext_lazy("audit", "recorded for the resident"),
    "filed": pgettext_lazy("audit", "filed as"),
    "live task": pgettext_lazy("audit", "live task"),
    "offer": pgettext_lazy("audit", "offer"),
    "household": pgettext_lazy("audit", "household"),
    "resident": pgettext_lazy("audit", "resident"),
    "place": pgettext_lazy("audit", "place"),
    "actor": pgettext_lazy("audit", "actor"),
    "person": pgettext_lazy("audit", "person"),
    "post": pgettext_lazy("audit", "post"),
    "user": pgettext_lazy("audit", "user"),
    "plan template": pgettext_lazy("audit", "plan"),
    "check in": pgettext_lazy("audit", "check-in"),
    "item": pgettext_lazy("audit", "item"),
    "distribution point": pgettext_lazy("audit", "distribution point"),
    "stock movement": pgettext_lazy("audit", "stock movement"),
    "checklist template": pgettext_lazy("audit", "checklist"),
    "drill": pgettext_lazy("audit", "drill"),
}

# Values of summary keys that are codes.
SUMMARY_VALUES: dict[str, dict[str, Any]] = {}


def _summary_values() -> dict[str, dict[str, Any]]:
    if not SUMMARY_VALUES:
        from civicgrid.relief.forms import POLICY_LABELS

        SUMMARY_VALUES["policy"] = dict(POLICY_LABELS)
        from civicgrid.cases.transitions import ACTION_LABELS

        SUMMARY_VALUES["action"] = dict(ACTION_LABELS)
        from civicgrid.emergency.models.isolation import SYMPTOMS

        SUMMARY_VALUES["symptoms"] = dict(SYMPTOMS)
    return SUMMARY_VALUES


def model_label(model: str) -> str:
    """``registry.Household`` as "household" in the reader's language (the stored name if unknown)."""
    try:
        meta = apps.get_model(model)._meta
    except (LookupError, ValueError):
        return model
    if "verbose_name" in meta.original_attrs:  # the model's own (translated) name
        return str(capfirst(meta.verbose_name))
    name = str(meta.verbose_name)  # Django's English from the class name ("need filing")
    return str(capfirst(MODEL_WORDS.get(name, name)))


def _field(model: type[models.Model] | None, key: str) -> models.Field[Any, Any] | None:
    if model is None:
        return None
    for name in (key, key.removesuffix("_id")):
        try:
            field = model._meta.get_field(name)
        except Exception:  # noqa: BLE001 - FieldDoesNotExist and reverse relations alike
            continue
        if isinstance(field, models.Field):
            return field
    return None


def localised(value: Any) -> Any:
    """A bilingual value ({"en": ..., "zh": ...}) as the reader's language; lists and dicts inside too."""
    if isinstance(value, dict):
        if value and set(value) <= {"en", "zh"}:
            lang = "en" if (get_language() or "").startswith("en") else "zh"
            return value.get(lang) or next(iter(value.values()))
        if "name" in value:
            return localised(value["name"])
        if "title" in value:
            return localised(value["title"])
        return {k: localised(v) for k, v in value.items()}
    if isinstance(value, list):
        return [localised(v) for v in value]
    return value


def _shown(value: Any, field: models.Field[Any, Any] | None, key: str, values: dict[str, dict[str, Any]]) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(gettext_lazy("yes") if value else gettext_lazy("no"))
    choices = dict(field.flatchoices) if field is not None and field.choices else values.get(key, {})
    if isinstance(value, list):
        value = [str(choices.get(v, v)) if isinstance(v, str) else v for v in localised(value)]
        separator = ", " if (get_language() or "en").startswith("en") else "、"
        text = separator.join(str(v) for v in value) if all(not isinstance(v, dict | list) for v in value) \
            else json.dumps(value, ensure_ascii=False)
    elif isinstance(value, dict):
        text = json.dumps(localised(value), ensure_ascii=False)
    elif isinstance(value, str) and value in choices:
        text = str(choices[value])
    else:
        text = str(value)
    return text if len(text) <= 160 else text[:159] + "…"


def audit_changes(old: dict[str, Any] | None, new: dict[str, Any] | None, model: str = ""
                  ) -> list[tuple[str, str, str]]:
    """An audit row's values as (field, old, new) in words, in field order: "" where a side has no value."""
    try:
        model_class: type[models.Model] | None = apps.get_model(model) if model else None
    except (LookupError, ValueError):
        model_class = None
    old, new = old or {}, new or {}
    values = dict(_summary_values())
    if {"items", "item_codes"} & {*old, *new}:  # item codes by their names, in the reader's language
        from civicgrid.relief.models import Item

        values["items"] = values["item_codes"] = {i.code: i.label for i in Item.objects.all()}
    rows = []
    keys = list(dict.fromkeys([*old, *new]))
    # a bilingual text (headline_en / headline_zh): the reader's language only
    other = "_zh" if (get_language() or "en").startswith("en") else "_en"
    mine = "_en" if other == "_zh" else "_zh"
    keys = [k for k in keys if not (k.endswith(other) and k[: -len(other)] + mine in keys)]
    for key in keys:
        field = _field(model_class, key)
        name = field.name if field is not None else key
        if field is not None and str(field.verbose_name) != name.replace("_", " "):
            label = field.verbose_name  # the model's own (translated) label
        else:
            label = FIELD_WORDS.get(name) or SUMMARY_KEYS.get(key) or key.replace("_", " ")
        label = capfirst(label)
        rows.append((str(label), _shown(old[key], field, key, values) if key in old else "",
                     _shown(new[key], field, key, values) if key in new else ""))
    return rows
