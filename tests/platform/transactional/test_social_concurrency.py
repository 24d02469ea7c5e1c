"""Admission to an emergency under real concurrency: coordinators deciding the same application at once, and
the same application sent at once (threads with their own connections and commits; SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from civicgrid.accounts.roles import scope_for
from civicgrid.accounts.services import DEMO_PASSWORD, role_assign
from civicgrid.core.errors import Conflict
from civicgrid.core.models import AuditLog
from civicgrid.core.scoping import PLATFORM
from civicgrid.emergency import services as emergency
from civicgrid.emergency.models import ChecklistItem, ChecklistTemplate, PlanTemplate
from civicgrid.emergency.shipped import templates_install
from civicgrid.registry.models import Actor, Place
from civicgrid.social import services
from civicgrid.social.events import SocialEvent
from civicgrid.social.models import Admission
from civicgrid.social.uscc import check_character
from tests.platform.transactional.racing import race

pytestmark = pytest.mark.django_db(transaction=True)
THREADS = 4


def _place(code: str, level: str, parent: Place | None) -> Place:
    return Place.objects.create(code=code, name=code, level=level, parent=parent,
                                path=(parent.path if parent else "") + code + "/")


def _world() -> dict[str, Any]:
    """A community of its own with two grids, a verified social organisation, THREADS directors of the
    community, and an emergency in force there."""
    templates_install(plan_model=PlanTemplate, checklist_model=ChecklistTemplate, item_model=ChecklistItem)
    tag = uuid.uuid4().hex[:6].upper()
    district = _place(f"SD{tag}", "district", None)
    community = _place(f"{district.code}-C", "community", _place(f"{district.code}-S", "subdistrict", district))
    grids = [_place(f"{community.code}-G{g}", "grid", community) for g in range(2)]
    actor = Actor.objects.create(code=f"{community.code}-A09", name="club", sector="society",
                                 kind="social_organisation", service_area=community)
    for i in range(THREADS):
        role_assign(user=None, scope=PLATFORM, username=f"dir{i}{tag}", password=DEMO_PASSWORD,
                    role="community_director", place=community)
    role_assign(user=None, scope=PLATFORM, username=f"staff{tag}", password=DEMO_PASSWORD, role="org_staff",
                actor=actor)
    users = get_user_model().objects
    directors = [users.get(username=f"dir{i}{tag}") for i in range(THREADS)]
    first17 = f"52510107MJ{uuid.uuid4().int % 10**7:07d}"
    organisation = services.organisation_register(user=directors[0], scope=scope_for(directors[0]), actor_id=actor.pk,
                                                  credit_code=first17 + check_character(first17))
    services.organisation_verify(user=directors[0], scope=scope_for(directors[0]), organisation_id=organisation.pk,
                                 state="verified", reason="papers checked")
    found = emergency.emergency_activate(user=directors[0], scope=scope_for(directors[0]), community=community,
                                         plan=PlanTemplate.objects.get(code="earthquake")).emergency
    return {"grids": grids, "actor": actor, "directors": directors, "emergency": found,
            "staff": users.get(username=f"staff{tag}")}


def test_coordinators_deciding_one_application_at_once_leave_one_decision() -> None:
    w = _world()
    row = services.admission_apply(user=w["staff"], scope=scope_for(w["staff"]), emergency_id=w["emergency"].pk,
                                   actor_id=w["actor"].pk, grid_ids=[w["grids"][0].pk], service_kinds=["delivery"])[0]

    def decide(i: int) -> Callable[[], Any]:
        director = w["directors"][i]
        # half admit, half refuse: whoever is first decides, the others are told it is already decided
        return lambda: services.admission_decide(user=director, scope=scope_for(director), admission_id=row.pk,
                                                 admit=i % 2 == 0, reason=f"coordinator {i}")

    results = race([decide(i) for i in range(THREADS)], language="en")
    decided = [r for r in results if isinstance(r, Admission)]
    refused = [r for r in results if not isinstance(r, Admission)]
    assert len(decided) == 1, results
    assert all(isinstance(r, Conflict) and "already decided" in str(r.message) for r in refused), results
    row.refresh_from_db()
    assert row.status == decided[0].status and row.reason == decided[0].reason
    assert row.decided_by_id == decided[0].decided_by_id
    events = AuditLog.objects.filter(event=SocialEvent.ADMISSION_DECIDED, object_id=str(row.pk))
    assert events.count() == 1  # nothing written by the losers


def test_the_same_application_sent_at_once_makes_one_row_per_grid_and_service() -> None:
    w = _world()
    staff = w["staff"]
    grid_ids = [g.pk for g in w["grids"]]
    results = race([lambda: services.admission_apply(user=staff, scope=scope_for(staff), emergency_id=w["emergency"].pk,
                                                      actor_id=w["actor"].pk, grid_ids=grid_ids,
                                                      service_kinds=["delivery", "care_visit"])
                     for _ in range(THREADS)], language="en")
    assert not [r for r in results if isinstance(r, Exception)], results
    assert Admission.objects.filter(emergency=w["emergency"]).count() == 4
    assert all(sorted(a.pk for a in r) == sorted(results[0][i].pk for i in range(4)) for r in results)
    assert AuditLog.objects.filter(event=SocialEvent.ADMISSION_APPLIED).count() == 4
