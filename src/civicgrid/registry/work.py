"""The registry's part of each user's home page (``AppPlugin.glance``): a resident's own household; the
households of a coordinator's area (how many, how many with a vulnerable member)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from civicgrid.core.plugins import Glance
from civicgrid.core.scoping import Scope
from civicgrid.registry import selectors
from civicgrid.registry.models import vulnerable_filter

AREA_ROLES = {"district_official", "community_director", "grid_member"}


def glance(*, user: Any, scope: Scope) -> list[Glance]:
    if not scope.may("households"):
        return []
    households = selectors.household_list(scope=scope)
    if scope.role == "resident":
        own = households.filter(pk__in=scope.household_ids).first()
        if own is None:
            return []
        size = own.residents.count()
        return [Glance(key="registry.household", app="registry", order=5, label=_("Your household"),
                       value=own.address, url=reverse("registry:household", args=[own.pk]),
                       lines=(ngettext("%(n)d person", "%(n)d people", size) % {"n": size},))]
    if scope.role not in AREA_ROLES:
        return []
    counted, when = selectors.household_counts(scope=scope), None
    if counted is not None:
        n, vulnerable, when = counted
    else:
        n, vulnerable = households.count(), households.filter(vulnerable_filter()).count()
    lines = [_("%(n)s with a vulnerable member") % {"n": number_format(vulnerable, force_grouping=True)}]
    if when is not None:
        lines.append(_("counted at %(time)s") % {"time": timezone.localtime(when).strftime("%H:%M")})
    return [Glance(key="registry.households", app="registry", order=40, label=_("Households"),
                   value=number_format(n, force_grouping=True), url=reverse("registry:households"),
                   lines=tuple(lines))]
