"""The social app's tunable rules. Override any of them with a dict in the setting ``CIVICGRID_SOCIAL``
(e.g. ``{"board_days": 14}``).

``indicators`` are the capacity assessment's indicators (Sahana Eden's ``org_capacity_indicator``: each
rated 1 to 5); an assessment keeps the code and the words of each indicator it rated, so changing the list
never rewrites an old score. ``stage_rules`` is the evidence a step up the incubation ladder needs: the
latest assessment's score at least ``min_score``, at least ``min_trainings`` trainings attended and at
least ``min_funding_yuan`` received (all counted up to the day of the step).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULTS: dict[str, Any] = {
    # code: (English, Chinese)
    "indicators": {
        "governance": ("Governance and rules", "治理结构与章程"),
        "finance": ("Financial management", "财务管理"),
        "services": ("Service delivery", "服务提供"),
        "volunteers": ("Volunteer management", "志愿者管理"),
        "accountability": ("Accountability to residents", "对居民负责"),
        "networks": ("Partnerships and networks", "合作网络"),
    },
    "stage_rules": {
        "growing": {"min_score": 3.0, "min_trainings": 1, "min_funding_yuan": 0},
        "independent": {"min_score": 4.0, "min_trainings": 3, "min_funding_yuan": 10_000},
    },
    "board_days": 30,  # the 3W board counts records of this many days back
    "max_admission_grids": 50,  # grids one application may name
}


def social_setting(name: str) -> Any:
    return {**DEFAULTS, **getattr(settings, "CIVICGRID_SOCIAL", {})}[name]


def indicator_label(code: str, words: tuple[str, str] | list[str] | None = None) -> str:
    """An indicator in the reader's language (from the stored words when given, else the configured ones)."""
    from django.utils.translation import get_language

    found = words or social_setting("indicators").get(code)
    if not found:
        return code
    return str(found[1] if (get_language() or "").startswith("zh") else found[0])
