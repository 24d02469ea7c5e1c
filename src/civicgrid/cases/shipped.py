"""The shipped category taxonomy (cases/data/categories.json), loaded by a data migration and by the
demo. Categories already in the database are left as they are, so local edits survive upgrades."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CATEGORIES_FILE = Path(__file__).resolve().parent / "data" / "categories.json"
REQUIRED = ("code", "name_en", "name_zh", "time_limit_hours")


def shipped_categories() -> list[dict[str, Any]]:
    rows = json.loads(CATEGORIES_FILE.read_text(encoding="utf-8"))
    for i, row in enumerate(rows):
        missing = [k for k in REQUIRED if not row.get(k)]
        if missing:
            raise ValueError(f"{CATEGORIES_FILE.name} entry {i}: missing {', '.join(missing)}")
        if int(row["time_limit_hours"]) <= 0:
            raise ValueError(f"{CATEGORIES_FILE.name} entry {row['code']}: time_limit_hours must be positive")
    return list(rows)


def categories_install(model: Any) -> int:
    """Create the shipped categories missing from ``model``'s table; return how many were created."""
    existing = set(model.objects.values_list("code", flat=True))
    new = [model(**row) for row in shipped_categories() if row["code"] not in existing]
    model.objects.bulk_create(new)
    return len(new)
