"""Government purchase of services: each step, its refusals (nothing written), the money rules."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from civicgrid.accounts.roles import scope_for
from civicgrid.core.errors import Conflict, Forbidden, Invalid, NotFound
from civicgrid.core.models import AuditLog
from civicgrid.core.plugins import Deliverable
from civicgrid.procurement import selectors, services
from civicgrid.procurement.models import (
    Application,
    Appropriation,
    Call,
    Contract,
    Milestone,
    Payment,
    Score,
)
from civicgrid.registry.models import Actor, Post
from tests.platform.factories import user
from tests.platform.procurement_support import close, organisation, setup

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
MARKS = {"capacity": 25, "plan": 30, "value": 15, "local": 8}


def _apply(s, amount=400_000):  # type: ignore[no-untyped-def]
    return services.application_submit(user=s.staff, scope=scope_for(s.staff), call_id=s.call.pk,
                                       organisation_id=s.org.actor_id, amount_fen=amount, proposal="we visit")


def _award(s, application, *, shares=(40, 60), target=3):  # type: ignore[no-untyped-def]
    close(s.call)
    today = timezone.localdate()
    specs = [services.MilestoneSpec(title=f"m{i}", share_percent=share, due_on=today + timedelta(days=30 * i),
                                    deliverable="deliveries_done", target=target) for i, share in enumerate(shares, 1)]
    return services.call_award(user=s.district, scope=scope_for(s.district), call_id=s.call.pk,
                               application_id=application.pk, arbiter_id=s.district.pk,
                               ends_on=today + timedelta(days=100), milestones=specs)


def _name_grid_reviewer(s):  # type: ignore[no-untyped-def]
    grid = user("grid")
    services.reviewer_name(user=s.district, scope=scope_for(s.district), call_id=s.call.pk, reviewer_id=grid.pk)
    return grid


def _counting(monkeypatch, n: int) -> None:  # type: ignore[no-untyped-def]
    """The deliverable counter reports ``n`` records (the rule under test is the arbiter's, not the count)."""
    monkeypatch.setattr(selectors, "deliverable", lambda kind: Deliverable("t", lambda **kw: n))


def test_a_call_runs_from_application_to_a_paid_milestone(monkeypatch) -> None:
    s = setup()
    application = _apply(s)
    grid = _name_grid_reviewer(s)
    score = services.application_score(user=grid, scope=scope_for(grid), application_id=application.pk, marks=MARKS)
    assert score.total == sum(MARKS.values())
    contract = _award(s, application)
    s.appropriation.refresh_from_db()
    assert s.appropriation.committed_fen == 400_000 and s.appropriation.spent_fen == 0
    milestones = list(contract.milestones.order_by("number"))
    assert [m.amount_fen for m in milestones] == [160_000, 240_000]  # 40% and 60% of 4,000 yuan
    _counting(monkeypatch, 3)
    services.milestone_decide(user=s.district, scope=scope_for(s.district), milestone_id=milestones[0].pk, accept=True)
    payment = services.payment_make(user=s.district, scope=scope_for(s.district), milestone_id=milestones[0].pk)
    s.appropriation.refresh_from_db()
    assert (payment.amount_fen, s.appropriation.spent_fen) == (160_000, 160_000)
    events = set(AuditLog.objects.filter(event__startswith="procurement.").values_list("event", flat=True))
    assert {"procurement.call_awarded", "procurement.milestone_decided", "procurement.payment_made",
            "procurement.application_scored", "procurement.reviewer_named"} <= events


def test_unknown_and_unverified_organisations_are_refused_and_nothing_is_written() -> None:
    s = setup()
    with pytest.raises(Invalid, match="unknown organisation"):
        services.application_submit(user=s.district, scope=scope_for(s.district), call_id=s.call.pk,
                                    organisation_id=987654321, amount_fen=1000, proposal="x")
    organisation(s.staff.role.actor, "applied")
    with pytest.raises(Forbidden, match="only verified organisations may apply"):
        _apply(s)
    assert not Application.objects.filter(call=s.call).exists()


def test_staff_apply_only_for_their_own_organisation_within_the_budget() -> None:
    s = setup()
    other = organisation(Actor.objects.exclude(pk=s.org.actor_id).filter(sector="society").order_by("code").first())
    with pytest.raises(Forbidden):
        services.application_submit(user=s.staff, scope=scope_for(s.staff), call_id=s.call.pk,
                                    organisation_id=other.actor_id, amount_fen=1000, proposal="x")
    with pytest.raises(Invalid, match="budget"):
        _apply(s, amount=500_001)
    _apply(s)
    with pytest.raises(Conflict):
        _apply(s)


def test_a_reviewer_with_a_post_in_the_applicant_or_its_funder_is_refused() -> None:
    s = setup()
    application = _apply(s)
    grid = _name_grid_reviewer(s)
    person = grid.role.person
    post = Post.objects.create(person=person, actor=s.org.actor, role="board member")
    with pytest.raises(Forbidden, match="Conflict of interest"):
        services.application_score(user=grid, scope=scope_for(grid), application_id=application.pk, marks=MARKS)
    post.delete()
    funder = Actor.objects.filter(sector="capital").order_by("code").first()
    # the funding is the social app's evidence of the organisation (the one record of who funds whom)
    from civicgrid.social import services as social

    social.funding_record(user=s.district, scope=scope_for(s.district), organisation_id=s.org.pk,
                          source_id=funder.pk, amount_fen=100_00, received_on=timezone.localdate())
    Post.objects.create(person=person, actor=funder, role="manager")
    with pytest.raises(Forbidden, match="funds the applicant"):
        services.application_score(user=grid, scope=scope_for(grid), application_id=application.pk, marks=MARKS)
    assert not Score.objects.filter(application=application).exists()


def test_only_named_reviewers_score_and_marks_stay_within_the_rubric() -> None:
    s = setup()
    application = _apply(s)
    grid = user("grid")
    with pytest.raises(NotFound):  # not named: the application lies outside the grid member's scope
        services.application_score(user=grid, scope=scope_for(grid), application_id=application.pk, marks=MARKS)
    _name_grid_reviewer(s)
    with pytest.raises(Invalid):
        services.application_score(user=grid, scope=scope_for(grid), application_id=application.pk,
                                   marks={**MARKS, "plan": 41})
    with pytest.raises(Invalid):
        services.application_score(user=grid, scope=scope_for(grid), application_id=application.pk,
                                   marks={"plan": 10})
    assert not Score.objects.exists()


def test_award_waits_for_the_deadline_and_shares_add_up_to_100() -> None:
    s = setup()
    application = _apply(s)
    today = timezone.localdate()
    spec = [services.MilestoneSpec("m", 100, today, "deliveries_done", 1)]
    with pytest.raises(Conflict, match="award after the deadline"):
        services.call_award(user=s.district, scope=scope_for(s.district), call_id=s.call.pk,
                            application_id=application.pk, arbiter_id=s.district.pk, ends_on=today, milestones=spec)
    with pytest.raises(Invalid, match="100%"):
        _award(s, application, shares=(40, 50))
    with pytest.raises(Invalid, match="unknown deliverable"):
        services.call_award(user=s.district, scope=scope_for(s.district), call_id=s.call.pk,
                            application_id=application.pk, arbiter_id=s.district.pk, ends_on=today,
                            milestones=[services.MilestoneSpec("m", 100, today, "no_such_thing", 1)])
    assert not Milestone.objects.filter(contract__call=s.call).exists()
    s.appropriation.refresh_from_db()
    assert s.appropriation.committed_fen == 0


def test_the_arbiter_needs_a_reason_to_reject_or_to_accept_short_of_the_target(monkeypatch) -> None:
    s = setup()
    milestone = _award(s, _apply(s), target=5).milestones.order_by("number").first()
    scope = scope_for(s.district)
    _counting(monkeypatch, 4)
    with pytest.raises(Invalid, match="4 of 5"):
        services.milestone_decide(user=s.district, scope=scope, milestone_id=milestone.pk, accept=True)
    with pytest.raises(Invalid):
        services.milestone_decide(user=s.district, scope=scope, milestone_id=milestone.pk, accept=False)
    with pytest.raises(Conflict, match="only an accepted milestone"):
        services.payment_make(user=s.district, scope=scope, milestone_id=milestone.pk)
    director = user("director")
    with pytest.raises(Forbidden, match="arbiter"):
        services.milestone_decide(user=director, scope=scope_for(director), milestone_id=milestone.pk, accept=True,
                                  reason="x")
    services.milestone_decide(user=s.district, scope=scope, milestone_id=milestone.pk, accept=False, reason="late")
    done = services.milestone_decide(user=s.district, scope=scope, milestone_id=milestone.pk, accept=True,
                                     reason="the fifth visit was recorded on paper")
    assert (done.status, done.overridden, done.counted) == ("accepted", True, 4)


def test_a_milestone_is_paid_once(monkeypatch) -> None:
    s = setup()
    milestone = _award(s, _apply(s)).milestones.order_by("number").first()
    _counting(monkeypatch, 10)
    scope = scope_for(s.district)
    services.milestone_decide(user=s.district, scope=scope, milestone_id=milestone.pk, accept=True)
    services.payment_make(user=s.district, scope=scope, milestone_id=milestone.pk)
    with pytest.raises(Conflict, match="already paid"):
        services.payment_make(user=s.district, scope=scope, milestone_id=milestone.pk)
    assert Payment.objects.filter(milestone=milestone).count() == 1
    s.appropriation.refresh_from_db()
    assert s.appropriation.spent_fen == milestone.amount_fen


def test_a_payment_over_the_appropriation_is_refused_and_nothing_is_written(monkeypatch) -> None:
    s = setup()
    milestone = _award(s, _apply(s)).milestones.order_by("number").first()
    _counting(monkeypatch, 10)
    scope = scope_for(s.district)
    services.milestone_decide(user=s.district, scope=scope, milestone_id=milestone.pk, accept=True)
    # money already gone from the appropriation (another contract's payments): 1 fen short for this one
    Appropriation.objects.filter(pk=s.appropriation.pk).update(spent_fen=F("committed_fen") - milestone.amount_fen + 1)
    before = AuditLog.objects.count()
    with pytest.raises(Conflict, match="exceed the appropriation"):
        services.payment_make(user=s.district, scope=scope, milestone_id=milestone.pk)
    assert not Payment.objects.filter(milestone=milestone).exists()
    assert AuditLog.objects.count() == before


def test_the_database_refuses_spending_beyond_the_appropriation() -> None:
    s = setup(amount_fen=1000, budget_fen=1000)
    Appropriation.objects.filter(pk=s.appropriation.pk).update(committed_fen=1000)
    with pytest.raises(IntegrityError), transaction.atomic():
        Appropriation.objects.filter(pk=s.appropriation.pk).update(spent_fen=1001)
    with pytest.raises(IntegrityError), transaction.atomic():
        Appropriation.objects.filter(pk=s.appropriation.pk).update(committed_fen=1001)


def test_an_award_beyond_what_the_appropriation_has_left_is_refused() -> None:
    s = setup(amount_fen=500_000, budget_fen=500_000)
    Appropriation.objects.filter(pk=s.appropriation.pk).update(committed_fen=200_000)
    application = _apply(s, amount=400_000)
    with pytest.raises(Conflict, match="left"):
        _award(s, application)
    assert Call.objects.get(pk=s.call.pk).status == "open" and not Contract.objects.filter(call=s.call).exists()
    s.appropriation.refresh_from_db()
    assert s.appropriation.committed_fen == 200_000


def test_orgstaff_see_only_their_own_applications() -> None:
    s = setup()
    mine = _apply(s)
    other = organisation(Actor.objects.exclude(pk=s.org.actor_id).filter(sector="society").order_by("code").first())
    theirs = Application.objects.create(call=s.call, organisation=other, amount_fen=1000, proposal="x")
    seen = set(selectors.applications(scope=scope_for(s.staff), user=s.staff, call=s.call).values_list("id", flat=True))
    assert mine.pk in seen and theirs.pk not in seen


def test_a_director_buys_only_within_their_community() -> None:
    from civicgrid.registry.models import Place

    director = user("director")
    other = Place.objects.get(level="community", code__endswith="C02")
    funder = Actor.objects.filter(sector="state").order_by("code").first()
    with pytest.raises(Invalid, match="no such place"):
        services.appropriation_create(user=director, scope=scope_for(director), name="x", place_id=other.pk,
                                      funder_id=funder.pk, year=2026, amount_fen=1000)
    assert not Appropriation.objects.filter(place=other).exists()


def test_each_step_reaches_the_right_persons_work_list(monkeypatch) -> None:
    from civicgrid.core.plugins import work_for

    def kinds(name: str) -> set[str]:
        u = user(name)
        return {i.kind for i in work_for(user=u, scope=scope_for(u)) if i.app == "procurement"}

    s = setup()
    application = _apply(s)
    _name_grid_reviewer(s)
    assert "procurement.score" in kinds("grid")
    milestone = _award(s, application).milestones.order_by("number").first()
    assert "procurement.decide" in kinds("district") and "procurement.score" not in kinds("grid")
    _counting(monkeypatch, 10)
    services.milestone_decide(user=s.district, scope=scope_for(s.district), milestone_id=milestone.pk, accept=True)
    assert "procurement.pay" in kinds("district") and "procurement.pay" in kinds("director")
    assert "procurement.pay" not in kinds("orgstaff")
