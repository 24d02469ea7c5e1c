"""The social app's part of each user's home page (``AppPlugin.work_items`` and ``glance``):

* coordinators: applications to serve in an emergency waiting for a decision; open complaints;
* social-organisation staff: an emergency in force where their organisation is not admitted yet.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from civicgrid.core.plugins import DUE, OPEN, Glance, WorkItem
from civicgrid.core.scoping import Scope, scoped
from civicgrid.social import selectors
from civicgrid.social.models import Admission, Complaint, Organisation


def work_items(*, user: Any, scope: Scope) -> list[WorkItem]:
    if not scope.may("social"):
        return []
    items = []
    pending = selectors.pending_admissions(scope=scope)
    if pending:
        items.append(WorkItem(kind="social.admissions", app="social", urgency=DUE, count=pending,
                              title=ngettext("%(n)d application to serve in the emergency waits for a decision",
                                             "%(n)d applications to serve in the emergency wait for a decision",
                                             pending) % {"n": pending},
                              url=reverse("social:admissions")))
    if scope.may("social_manage"):
        complaints = scoped(Complaint.objects.filter(status=Complaint.Status.OPEN), scope).count()
        if complaints:
            items.append(WorkItem(kind="social.complaints", app="social", urgency=OPEN, count=complaints,
                                  title=ngettext("%(n)d complaint about an organisation is open",
                                                 "%(n)d complaints about organisations are open",
                                                 complaints) % {"n": complaints},
                                  url=reverse("social:organisations") + "?complaints=1"))
    elif scope.actor_ids:
        for emergency in selectors.emergencies_in_force(scope=scope):
            if not Admission.objects.filter(emergency=emergency, actor_id__in=scope.actor_ids).exists():
                items.append(WorkItem(kind="social.apply", app="social", urgency=DUE, place=emergency.community.name,
                                      title=_("Apply to serve in the emergency: %(emergency)s") % {
                                          "emergency": emergency.get_hazard_display()},
                                      url=reverse("social:admissions") + f"?emergency={emergency.pk}"))
    return items


def glance(*, user: Any, scope: Scope) -> list[Glance]:
    if not scope.may("social_manage"):
        return []
    found = selectors.organisations(scope=scope)
    verified = found.filter(verification=Organisation.Verification.VERIFIED).count()
    return [Glance(key="social.register", app="social", order=60, label=_("Social organisations"),
                   value=str(found.count()), url=reverse("social:organisations"),
                   lines=(_("%(n)d verified") % {"n": verified},))]
