"""Money under real concurrency: threads with their own connections race to pay and to commit beyond the
appropriation; exactly one lands and the appropriation's sums stay within their bounds (SQLite and
PostgreSQL: ``scripts/with-postgres.sh``). The module builds its own district, as the relief one does."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import timedelta
from functools import partial
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from civicgrid.accounts.models import Role
from civicgrid.accounts.roles import scope_for
from civicgrid.procurement import services
from civicgrid.procurement.models import Appropriation, Call, Contract, Milestone, Payment
from civicgrid.registry.models import Actor, Place
from civicgrid.social.models import Organisation
from tests.platform.transactional.racing import race

pytestmark = pytest.mark.django_db(transaction=True)


def _place(code: str, level: str, parent: Place | None) -> Place:
    return Place.objects.create(code=code, name=code, level=level, parent=parent,
                                path=(parent.path if parent else "") + code + "/")


def _world(*, amount_fen: int, calls: int, ask_fen: int) -> tuple[Any, Appropriation, list[Call], list[int]]:
    """A district of its own: an official, an appropriation, ``calls`` closed calls each with one verified
    organisation's application of ``ask_fen``."""
    tag = uuid.uuid4().hex[:6].upper()
    district = _place(f"PD{tag}", "district", None)
    community = _place(f"{district.code}-C", "community", _place(f"{district.code}-S", "subdistrict", district))
    funder = Actor.objects.create(code=f"{tag}-GOV", name="gov", sector="state", kind="government",
                                  service_area=district)
    official = get_user_model().objects.create(username=f"{tag}-official")
    Role.objects.create(user=official, role="district_official", place=district)
    scope = scope_for(official)
    appropriation = services.appropriation_create(user=official, scope=scope, name="fund", place_id=community.pk,
                                                  funder_id=funder.pk, year=2026, amount_fen=amount_fen)
    found, applications = [], []
    for i in range(calls):
        call = services.call_publish(user=official, scope=scope, appropriation_id=appropriation.pk, title=f"c{i}",
                                     service_kind="delivery", place_id=community.pk, budget_fen=ask_fen,
                                     deadline=timezone.now() + timedelta(days=1))
        actor = Actor.objects.create(code=f"{tag}-ORG{i}", name=f"org{i}", sector="society",
                                     kind="social_organisation", service_area=community)
        Organisation.objects.create(actor=actor, credit_code=f"{tag}{i:012d}", verification="verified")
        applications.append(_apply(call, actor, ask_fen))
        found.append(call)
    Call.objects.filter(pk__in=[c.pk for c in found]).update(deadline=timezone.now() - timedelta(minutes=1))
    return official, appropriation, found, applications


def _apply(call: Call, actor: Actor, ask_fen: int) -> int:
    from civicgrid.core.scoping import PLATFORM

    return services.application_submit(user=None, scope=PLATFORM, call_id=call.pk, organisation_id=actor.pk,
                                       amount_fen=ask_fen, proposal="p").pk


def _award(official: Any, call: Call, application_id: int) -> Contract:
    today = timezone.localdate()
    return services.call_award(user=official, scope=scope_for(official), call_id=call.pk,
                               application_id=application_id, arbiter_id=official.pk, ends_on=today,
                               milestones=[services.MilestoneSpec("all", 100, today, "deliveries_done", 1)])


def _kinds(results: list[Any]) -> Counter[str]:
    return Counter("ok" if not isinstance(r, Exception) else type(r).__name__ for r in results)


def _accepted(contract: Contract) -> Milestone:
    milestone = contract.milestones.get()
    Milestone.objects.filter(pk=milestone.pk).update(status=Milestone.Status.ACCEPTED)  # the arbiter's step
    return milestone


def test_two_payments_racing_past_the_appropriation_exactly_one_lands() -> None:
    official, appropriation, calls, applications = _world(amount_fen=100_000, calls=2, ask_fen=50_000)
    milestones = [_accepted(_award(official, c, a)) for c, a in zip(calls, applications, strict=True)]
    # what is left covers one payment, not two: 1 fen already went out of this appropriation
    Appropriation.objects.filter(pk=appropriation.pk).update(spent_fen=F("spent_fen") + 1)
    results = race([partial(services.payment_make, user=official, scope=scope_for(official), milestone_id=m.pk)
                     for m in milestones])
    assert _kinds(results) == Counter({"ok": 1, "Conflict": 1}), _kinds(results)
    appropriation.refresh_from_db()
    paid = Payment.objects.filter(appropriation=appropriation).aggregate(s=Sum("amount_fen"))["s"] or 0
    assert appropriation.spent_fen == 1 + paid == 50_001 <= appropriation.committed_fen <= appropriation.amount_fen


def test_the_same_milestone_paid_twice_at_once_is_paid_once() -> None:
    official, appropriation, calls, applications = _world(amount_fen=100_000, calls=1, ask_fen=60_000)
    milestone = _accepted(_award(official, calls[0], applications[0]))
    results = race([partial(services.payment_make, user=official, scope=scope_for(official), milestone_id=milestone.pk)
                     for _ in range(4)])
    assert _kinds(results) == Counter({"ok": 1, "Conflict": 3}), _kinds(results)
    appropriation.refresh_from_db()
    assert Payment.objects.filter(milestone=milestone).count() == 1 and appropriation.spent_fen == 60_000


def test_two_awards_racing_past_the_appropriation_exactly_one_commits() -> None:
    official, appropriation, calls, applications = _world(amount_fen=100_000, calls=2, ask_fen=60_000)
    results = race([partial(_award, official, c, a) for c, a in zip(calls, applications, strict=True)])
    assert _kinds(results) == Counter({"ok": 1, "Conflict": 1}), _kinds(results)
    appropriation.refresh_from_db()
    assert appropriation.committed_fen == 60_000 and Contract.objects.filter(call__in=calls).count() == 1


def test_the_database_alone_keeps_two_racing_raw_updates_within_the_appropriation() -> None:
    """Without the service (no lock, no check): the check constraint refuses the second increment."""
    _official, appropriation, _calls, _apps = _world(amount_fen=100_000, calls=1, ask_fen=1_000)
    Appropriation.objects.filter(pk=appropriation.pk).update(committed_fen=100_000)

    def spend() -> int:
        with transaction.atomic():
            return Appropriation.objects.filter(pk=appropriation.pk).update(spent_fen=F("spent_fen") + 60_000)

    results = race([spend, spend])
    assert Counter(type(r).__name__ if isinstance(r, Exception) else "ok" for r in results) in (
        Counter({"ok": 1, "IntegrityError": 1}), Counter({"ok": 1, "OperationalError": 1}))
    appropriation.refresh_from_db()
    assert appropriation.spent_fen == 60_000
