"""A purchase of services set up in the session's community, for the procurement tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone

from civicgrid.accounts.roles import scope_for
from civicgrid.core.places import ancestors
from civicgrid.procurement import services
from civicgrid.procurement.models import Appropriation, Call
from civicgrid.registry.models import Actor, Place
from civicgrid.social.models import Organisation
from tests.platform.factories import user


def credit_code() -> str:
    return uuid.uuid4().hex[:18].upper()


def organisation(actor: Actor, verification: str = "verified") -> Organisation:
    found, _ = Organisation.objects.get_or_create(actor=actor, defaults={"credit_code": credit_code(),
                                                                        "verification": verification})
    if found.verification != verification:
        Organisation.objects.filter(pk=found.pk).update(verification=verification)
        found.refresh_from_db()
    return found


@dataclass
class Setup:
    district: Any
    community: Place
    funder: Actor
    appropriation: Appropriation
    call: Call
    org: Organisation
    staff: Any


def setup(*, amount_fen: int = 1_000_000, budget_fen: int = 500_000, open_for: timedelta = timedelta(days=7)) -> Setup:
    district = user("district")
    scope = scope_for(district)
    staff = user("orgstaff")
    community = Place.objects.get(level="community", code__endswith="C01")
    funder = Actor.objects.filter(sector="state", service_area__path__in=ancestors(community.path)).order_by("code").first() \
        or Actor.objects.filter(sector="state").order_by("code").first()
    appropriation = services.appropriation_create(user=district, scope=scope, name="t", place_id=community.pk,
                                                  funder_id=funder.pk, year=2026, amount_fen=amount_fen)
    call = services.call_publish(user=district, scope=scope, appropriation_id=appropriation.pk, title="care",
                                 service_kind="care_visit", place_id=community.pk, budget_fen=budget_fen,
                                 deadline=timezone.now() + open_for)
    return Setup(district, community, funder, appropriation, call, organisation(staff.role.actor), staff)


def close(call: Call) -> None:
    """Time passes: the call's deadline is behind us."""
    Call.objects.filter(pk=call.pk).update(deadline=timezone.now() - timedelta(minutes=1))
