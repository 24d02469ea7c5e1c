from typing import Any

from django.http import HttpRequest

from civicgrid.accounts.models import ROLE_LABELS
from civicgrid.accounts.roles import scope_for
from civicgrid.core.plugins import nav_items
from civicgrid.core.scoping import access


def role(request: HttpRequest) -> dict[str, Any]:
    scope = scope_for(request.user)
    resources = set().union(*access().values())
    return {"scope": scope, "role_label": ROLE_LABELS.get(scope.role, ""),
            "can": {r: scope.may(r) for r in resources},
            "nav": [item for item in nav_items() if item.shown_to(scope)]}
