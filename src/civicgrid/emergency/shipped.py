"""Install the shipped plan and checklist templates (emergency/data/). Run by a data migration and
by the demo; a template already in the database is left as it is, so local edits survive upgrades."""

from __future__ import annotations

from typing import Any

from civicgrid.emergency import plan_format as pf


def templates_install(*, plan_model: Any, checklist_model: Any, item_model: Any) -> tuple[int, int]:
    """Create the missing shipped checklists and plans; return (checklists, plans) created."""
    checklists = pf.validate_checklists(pf.load_yaml(pf.CHECKLISTS_FILE.read_text(encoding="utf-8")))
    existing = set(checklist_model.objects.values_list("code", flat=True))
    n_checklists = 0
    for spec in checklists:
        if spec["code"] in existing:
            continue
        template = checklist_model.objects.create(code=spec["code"], name_en=spec["name_en"],
                                                  name_zh=spec["name_zh"], target=spec["target"],
                                                  source=spec["source"])
        item_model.objects.bulk_create([item_model(template=template, order=i, **item)
                                        for i, item in enumerate(spec["items"], start=1)])
        n_checklists += 1
    codes = set(checklist_model.objects.values_list("code", flat=True))
    existing_plans = set(plan_model.objects.values_list("code", flat=True))
    n_plans = 0
    for path in pf.SHIPPED_PLANS:
        doc = pf.validate_plan(pf.load_yaml(path.read_text(encoding="utf-8")), checklist_codes=codes)
        if doc["code"] in existing_plans:
            continue
        plan_model.objects.create(code=doc["code"], hazard=doc["hazard"], name_en=doc["name"]["en"],
                                  name_zh=doc["name"]["zh"], default_level=doc["default_level"], body=doc)
        n_plans += 1
    return n_checklists, n_plans
