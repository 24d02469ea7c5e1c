"""The kinds of work the platform's apps hand out, one vocabulary for all of them.

Organisations are admitted to an emergency for some kinds in some grids (social app), volunteers need
courses before some kinds (volunteers app), the who-does-what-where board groups by kind, and work
guards (:func:`civicgrid.core.plugins.work_refusal`) are asked with one of these keys.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

SERVICE_KINDS = {
    "delivery": _("delivery of supplies"),
    "care_visit": _("care visit"),
    "sweep": _("door-to-door sweep"),
    "case_handling": _("grid case handling"),
    "psychosocial": _("psychosocial support"),
    "medical_escort": _("medical escort"),
}


def service_kind_label(kind: str) -> str:
    return str(SERVICE_KINDS.get(kind, kind))
