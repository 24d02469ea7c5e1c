"""Builders shared by the social app's tests (no tests here): organisations of the session's community
registered through the services, and an emergency in force in community C01."""

from __future__ import annotations

from datetime import timedelta
from itertools import count
from typing import Any

from django.utils import timezone

from civicgrid.accounts.roles import scope_for
from civicgrid.emergency import services as emergency
from civicgrid.emergency.models import Emergency, PlanTemplate
from civicgrid.registry.models import Actor, Place
from civicgrid.social import services
from civicgrid.social.models import Organisation
from civicgrid.social.uscc import check_character
from tests.platform.factories import user

# Published unified social credit codes (companies' business licences, e.g. Huawei Technologies,
# Alibaba (China), Tencent, Baidu): valid under GB 32100-2015 by their issuers, not by the code under test.
PUBLISHED = ["914403001922038216", "91330100799655058B", "9144030071526726XG", "91110000802100433B"]
_numbers = count(1)


def fresh_code() -> str:
    """A code not used yet in this session (seventeen characters, then its check character)."""
    first17 = f"52510107MJ{next(_numbers) + 9_000_000:07d}"
    return first17 + check_character(first17)


def district() -> tuple[Any, Any]:
    found = user("district")
    return found, scope_for(found)


def community(suffix: str = "C01") -> Place:
    return Place.objects.get(level="community", code__endswith=suffix)


def grid(suffix: str = "C01-G01") -> Place:
    return Place.objects.get(level="grid", code__endswith=suffix)


def hub_actor() -> Actor:
    """The social-organisation staff's own organisation (the sub-district's hub, serving C01 and C02)."""
    return user("orgstaff").role.actor


def team_actor() -> Actor:
    """The demo volunteer's team (C01's volunteer team, society sector)."""
    return Actor.objects.get(pk=user("volunteer").role.person.posts.get().actor_id)


def registered(actor: Actor, *, verified: bool = False) -> Organisation:
    who, scope = district()
    organisation = services.organisation_register(user=who, scope=scope, actor_id=actor.pk, credit_code=fresh_code())
    if verified:
        services.organisation_verify(user=who, scope=scope, organisation_id=organisation.pk, state="verified",
                                     reason="papers checked")
    organisation.refresh_from_db()
    return organisation


def evidence(organisation: Organisation, *, rating: int = 4, trainings: int = 1, yuan: int = 0) -> None:
    """An assessment rating every indicator ``rating`` a week ago, trainings and funding before it."""
    from civicgrid.social.conf import social_setting

    who, scope = district()
    day = timezone.localdate() - timedelta(days=7)
    services.assessment_record(user=who, scope=scope, organisation_id=organisation.pk, assessed_on=day,
                               ratings={code: rating for code in social_setting("indicators")})
    for i in range(trainings):
        services.training_record(user=who, scope=scope, organisation_id=organisation.pk, title=f"course {i}",
                                 held_on=day, attendees=3)
    if yuan:
        services.funding_record(user=who, scope=scope, organisation_id=organisation.pk, amount_fen=yuan * 100,
                                received_on=day, source_name="a foundation", source_sector="society")


def in_force(place: Place | None = None, plan: str = "earthquake") -> Emergency:
    who, scope = district()
    found = Emergency.objects.filter(community=place or community(), status="active").first()
    if found:
        return found
    return emergency.emergency_activate(user=who, scope=scope, community=place or community(),
                                        plan=PlanTemplate.objects.get(code=plan)).emergency


def pages_world() -> None:
    """Something on every page of the social app (for the language walker): the staff's organisation
    registered, verified, assessed, trained, funded and complained about; in the emergency in force in C01
    it is admitted for deliveries in G01 and waits for a decision on G02."""
    who, scope = district()
    organisation = registered(hub_actor(), verified=True)
    evidence(organisation, rating=4, trainings=1, yuan=500)
    company = Actor.objects.filter(sector="capital", service_area=community()).order_by("code").first()
    services.funding_record(user=who, scope=scope, organisation_id=organisation.pk, amount_fen=300_000,
                            received_on=timezone.localdate(), source_id=company.pk, purpose="stairwell lights")
    services.complaint_file(user=who, scope=scope, organisation_id=organisation.pk, text="late twice")
    registered(team_actor())
    rows = services.admission_apply(user=who, scope=scope, emergency_id=in_force().pk, actor_id=hub_actor().pk,
                                    grid_ids=[grid("C01-G01").pk, grid("C01-G02").pk], service_kinds=["delivery"])
    services.admission_decide(user=who, scope=scope, admission_id=rows[0].pk, admit=True)
