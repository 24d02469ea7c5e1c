"""Admission to an emergency: organisations apply to serve named grids with named kinds of service, a
coordinator admits or refuses each, and only admitted organisations may claim that work (``guard.py``)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.core import audit
from civicgrid.core.errors import Conflict, Forbidden, Invalid, NotFound
from civicgrid.core.limits import bounded_text
from civicgrid.core.locking import locked, serialised_block
from civicgrid.core.scoping import Scope, require, scoped
from civicgrid.core.servicekinds import SERVICE_KINDS
from civicgrid.emergency.models import Emergency
from civicgrid.registry.models import Actor, Place
from civicgrid.social.conf import social_setting
from civicgrid.social.events import SocialEvent
from civicgrid.social.models import Admission, Organisation

SERVING_SECTORS = ("society", "capital")  # who applies: the state's own bodies serve by command, not admission


def _emergency(scope: Scope, emergency_id: Any) -> Emergency:
    found = scoped(Emergency.objects.filter(pk=emergency_id if isinstance(emergency_id, int) else 0), scope).first()
    if found is None:
        raise NotFound(_("No such emergency in your area."))
    if found.status != Emergency.Status.ACTIVE:
        raise Conflict(_("This emergency is no longer in force."))
    return found


def _standing(actor: Actor, *, admitting: bool) -> None:
    """A society actor must be in the register and not suspended to apply, and verified to be admitted."""
    if actor.sector not in SERVING_SECTORS:
        raise Invalid({"actor": _("Only social organisations and enterprises apply; the state's bodies serve by "
                                  "command.")})
    if actor.sector != "society":
        return
    organisation = Organisation.objects.filter(actor=actor).first()
    if organisation is None:
        raise Conflict(_("%(name)s is not in the register of social organisations.") % {"name": actor.name},
                       field="actor")
    if organisation.verification == Organisation.Verification.SUSPENDED:
        raise Conflict(_("%(name)s is suspended: %(reason)s") % {"name": actor.name,
                                                                "reason": organisation.verification_reason},
                       field="actor")
    if admitting and not organisation.is_verified:
        raise Conflict(_("%(name)s is not verified yet: verify it in the register first.") % {"name": actor.name},
                       field="actor")


def admission_apply(*, user: Any, scope: Scope, emergency_id: Any, actor_id: Any, grid_ids: list[Any],
                    service_kinds: list[str], note: Any = "") -> list[Admission]:
    """Apply for each named grid and kind (one row each; a row already there is kept as it is). An
    organisation's staff apply for their own organisation, a coordinator for any in their area."""
    require(scope, "social")
    text = bounded_text(note, "note")
    kinds = sorted(set(service_kinds))
    if not kinds or any(k not in SERVICE_KINDS for k in kinds):
        raise Invalid({"service_kinds": _("Choose one or more kinds of service from the list.")})
    grid_set = {g for g in grid_ids if isinstance(g, int) and not isinstance(g, bool)}
    if not grid_set or len(grid_set) != len(set(grid_ids)):
        raise Invalid({"grids": _("Choose one or more grids.")})
    if len(grid_set) > social_setting("max_admission_grids"):
        raise Invalid({"grids": _("At most %(n)d grids in one application.") % {"n": social_setting("max_admission_grids")}})
    with serialised_block():
        emergency = _emergency(scope, emergency_id)
        # the organisation's row locked first: the same application sent twice at once (PostgreSQL) is
        # written once, the second sees the first's rows (SQLite: the serialised block already holds the lock)
        actor = locked(Actor.objects.filter(pk=actor_id if isinstance(actor_id, int) else 0)).first()
        if actor is None:
            raise Invalid({"actor": _("Unknown organisation.")})
        if not scope.may("social_manage") and actor.pk not in scope.actor_ids:
            raise Forbidden(_("You may apply only for your own organisation."))
        _standing(actor, admitting=False)
        grids = list(Place.objects.filter(pk__in=grid_set, level="grid", parent_id=emergency.community_id))
        if len(grids) != len(grid_set):
            raise Invalid({"grids": _("Every grid must lie in the community of the emergency.")})
        now, rows = timezone.now(), []
        existing = {(a.grid_id, a.service_kind): a for a in Admission.objects.filter(
            emergency=emergency, actor=actor, grid__in=grids, service_kind__in=kinds)}
        created = []
        for grid in sorted(grids, key=lambda g: g.code):
            for kind in kinds:
                row = existing.get((grid.pk, kind))
                if row is None:
                    row = Admission(emergency=emergency, actor=actor, grid=grid, service_kind=kind, note=text,
                                    applied_by=audit.acting_user(user), applied_at=now)
                    created.append(row)
                rows.append(row)
        for row in created:  # one event per grid and service (at most the grids' bound times the kinds)
            row.save()
            audit.record(user=user, event=SocialEvent.ADMISSION_APPLIED, instance=row, new=audit.snapshot(row))
        return rows


def admission_decide(*, user: Any, scope: Scope, admission_id: Any, admit: bool, reason: Any = "") -> Admission:
    """Admit or refuse one application. Two coordinators deciding at once: the first decides, the second is
    told it is already decided (nothing written)."""
    require(scope, "social_manage")
    with serialised_block():
        row = locked(scoped(Admission.objects.filter(pk=admission_id if isinstance(admission_id, int) else 0),
                            scope)).first()
        if row is None:
            raise NotFound(_("No such application in your area."))
        text = bounded_text(reason, "reason")
        if not admit and not text:
            raise Invalid({"reason": _("Give the reason for refusing.")})
        if row.status != Admission.Status.APPLIED:
            raise Conflict(_("This application is already decided: %(status)s.") % {"status": row.get_status_display()})
        if row.emergency.status != Emergency.Status.ACTIVE:
            raise Conflict(_("This emergency is no longer in force."))
        if admit:
            _standing(row.actor, admitting=True)
        audit.update_fields(user=user, event=SocialEvent.ADMISSION_DECIDED, instance=row, changes={
            "status": Admission.Status.ADMITTED if admit else Admission.Status.REFUSED, "reason": text,
            "decided_by": audit.acting_user(user), "decided_at": timezone.now()})
        return row
