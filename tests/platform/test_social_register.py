"""The register of social organisations: credit codes checked by their check character (GB 32100-2015),
verification with reasons, the incubation ladder whose every step stands on evidence, capacity scores,
funding and complaints that reach the verification state. Bad input: a clear error and nothing written."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from civicgrid.core.errors import Conflict, Forbidden, Invalid, NotFound
from civicgrid.core.models import AuditLog
from civicgrid.registry.models import Actor
from civicgrid.social import services
from civicgrid.social.conf import social_setting
from civicgrid.social.models import (
    CapacityAssessment,
    Complaint,
    Organisation,
    StageChange,
    VerificationChange,
)
from civicgrid.social.uscc import uscc_problem
from tests.platform.factories import user
from tests.platform.social_support import (
    PUBLISHED,
    district,
    evidence,
    fresh_code,
    hub_actor,
    registered,
    team_actor,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def _written() -> tuple[int, int, int]:
    return Organisation.objects.count(), VerificationChange.objects.count(), AuditLog.objects.count()


def test_published_credit_codes_are_valid_and_one_changed_character_is_not() -> None:
    for code in PUBLISHED:
        assert uscc_problem(code) is None, code
        # any other check character is refused (the check is one of 31 values)
        for other in "0123456789ABCDEFGHJKLMNPQRTUWXY":
            if other != code[-1]:
                assert uscc_problem(code[:-1] + other) == "check character"
    assert uscc_problem(PUBLISHED[0][:-1]) == "length"
    assert uscc_problem("I" + PUBLISHED[0][1:]) == "characters"  # I, O, S, V, Z are not in the alphabet


def test_register_refuses_bad_codes_unknown_and_non_society_actors_writing_nothing() -> None:
    who, scope = district()
    actor = hub_actor()
    before = _written()
    bad = PUBLISHED[0][:-1] + ("0" if PUBLISHED[0][-1] != "0" else "1")
    with pytest.raises(Invalid) as refused:
        services.organisation_register(user=who, scope=scope, actor_id=actor.pk, credit_code=bad)
    assert "check character" in str(refused.value.message_dict["credit_code"])
    with pytest.raises(Invalid) as refused:
        services.organisation_register(user=who, scope=scope, actor_id=987_654_321, credit_code=fresh_code())
    assert refused.value.message_dict["actor"] == ["Unknown organisation."]
    company = Actor.objects.filter(sector="capital").order_by("code").first()
    with pytest.raises(Invalid):
        services.organisation_register(user=who, scope=scope, actor_id=company.pk, credit_code=fresh_code())
    assert _written() == before


def test_a_director_cannot_register_an_organisation_outside_the_community() -> None:
    director = user("director")
    from civicgrid.accounts.roles import scope_for

    outside = Actor.objects.filter(sector="society", service_area__code__endswith="C02").order_by("code").first()
    with pytest.raises(Invalid):
        services.organisation_register(user=director, scope=scope_for(director), actor_id=outside.pk,
                                       credit_code=fresh_code())
    assert not Organisation.objects.filter(actor=outside).exists()


def test_registration_twice_or_under_a_used_code_is_a_conflict() -> None:
    who, scope = district()
    organisation = registered(hub_actor())
    with pytest.raises(Conflict):
        services.organisation_register(user=who, scope=scope, actor_id=hub_actor().pk, credit_code=fresh_code())
    with pytest.raises(Conflict):
        services.organisation_register(user=who, scope=scope, actor_id=team_actor().pk,
                                       credit_code=organisation.credit_code)
    assert (organisation.verification, organisation.stage) == ("applied", "incubating")


def test_verification_changes_need_a_reason_and_are_kept_dated() -> None:
    who, scope = district()
    organisation = registered(hub_actor())
    with pytest.raises(Invalid):
        services.organisation_verify(user=who, scope=scope, organisation_id=organisation.pk, state="verified", reason=" ")
    services.organisation_verify(user=who, scope=scope, organisation_id=organisation.pk, state="verified", reason="ok")
    with pytest.raises(Conflict):
        services.organisation_verify(user=who, scope=scope, organisation_id=organisation.pk, state="verified", reason="x")
    history = list(organisation.verification_changes.order_by("at", "id").values_list("from_state", "to_state", "reason"))
    assert history == [("", "applied", "entered in the register"), ("applied", "verified", "ok")]
    assert Organisation.objects.get(pk=organisation.pk).is_verified
    with pytest.raises(NotFound):
        services.organisation_verify(user=who, scope=scope, organisation_id=987_654_321, state="verified", reason="x")


@pytest.mark.parametrize("username", ["orgstaff", "grid", "volunteer", "resident"])
def test_only_coordinators_verify_or_incubate(username: str) -> None:
    from civicgrid.accounts.roles import scope_for

    organisation = registered(hub_actor())
    someone = user(username)
    with pytest.raises(Forbidden):
        services.organisation_verify(user=someone, scope=scope_for(someone), organisation_id=organisation.pk,
                                     state="verified", reason="me")
    with pytest.raises(Forbidden):
        services.stage_change(user=someone, scope=scope_for(someone), organisation_id=organisation.pk,
                              to_stage="growing", on=timezone.localdate(), reason="me")


def test_the_score_is_the_mean_of_the_ratings_and_the_latest_is_the_organisations() -> None:
    who, scope = district()
    organisation = registered(hub_actor())
    codes = list(social_setting("indicators"))
    ratings = {code: 1 + i % 5 for i, code in enumerate(codes)}
    today = timezone.localdate()
    services.assessment_record(user=who, scope=scope, organisation_id=organisation.pk, ratings=ratings,
                               assessed_on=today - timedelta(days=30))
    expected = Decimal(sum(ratings.values())) / len(ratings)
    assert CapacityAssessment.objects.get(organisation=organisation).score == expected.quantize(Decimal("0.01"))
    # an older assessment recorded later does not replace the latest score
    services.assessment_record(user=who, scope=scope, organisation_id=organisation.pk,
                               ratings=dict.fromkeys(codes, 5), assessed_on=today - timedelta(days=10))
    services.assessment_record(user=who, scope=scope, organisation_id=organisation.pk,
                               ratings=dict.fromkeys(codes, 2), assessed_on=today - timedelta(days=60))
    assert Organisation.objects.get(pk=organisation.pk).score == Decimal("5.00")
    assert organisation.assessments.count() == 3


@pytest.mark.parametrize("ratings, field", [
    ({"governance": 6}, "rating_governance"), ({"governance": 0}, "rating_governance"),
    ({}, "rating_governance"), ({"no_such_indicator": 3}, "ratings"),
])
def test_an_assessment_with_a_rating_out_of_range_or_missing_writes_nothing(ratings: dict, field: str) -> None:
    who, scope = district()
    organisation = registered(hub_actor())
    full = {**dict.fromkeys(social_setting("indicators"), 3), **ratings}
    if not ratings:
        full.pop("governance")
    with pytest.raises(Invalid) as refused:
        services.assessment_record(user=who, scope=scope, organisation_id=organisation.pk, ratings=full,
                                   assessed_on=timezone.localdate())
    assert field in refused.value.message_dict
    assert not organisation.assessments.exists()


def test_a_step_up_needs_verification_and_the_evidence_the_rules_ask_for() -> None:
    who, scope = district()
    organisation = registered(hub_actor())
    today = timezone.localdate()
    step = dict(user=who, scope=scope, organisation_id=organisation.pk, to_stage="growing", on=today, reason="ready")
    with pytest.raises(Conflict, match="verified"):
        services.stage_change(**step)
    services.organisation_verify(user=who, scope=scope, organisation_id=organisation.pk, state="verified", reason="ok")
    evidence(organisation, rating=2, trainings=0)  # a score of 2 and no training: short of both
    with pytest.raises(Conflict) as refused:
        services.stage_change(**step)
    assert "capacity assessment" in str(refused.value.message) and "trainings" in str(refused.value.message)
    with pytest.raises(Conflict, match="one stage at a time"):
        services.stage_change(**{**step, "to_stage": "independent"})
    evidence(organisation, rating=4, trainings=1)
    change = services.stage_change(**step)
    assert Organisation.objects.get(pk=organisation.pk).stage == "growing"
    # the evidence kept with the step is what the records said that day
    assert change.trainings == organisation.trainings.filter(held_on__lte=today).count() == 1
    assert change.assessment.score == Decimal("4.00")
    # independence asks for more trainings and funding than there are
    with pytest.raises(Conflict, match="yuan"):
        services.stage_change(**{**step, "to_stage": "independent"})
    # a step back needs only a reason
    services.stage_change(**{**step, "to_stage": "incubating", "reason": "lost its staff"})
    stages = list(StageChange.objects.filter(organisation=organisation).order_by("id").values_list("to_stage", flat=True))
    assert stages == ["incubating", "growing", "incubating"]


def test_funding_takes_the_sector_of_its_source_and_refuses_a_zero_amount() -> None:
    who, scope = district()
    organisation = registered(hub_actor())
    company = Actor.objects.filter(sector="capital").order_by("code").first()
    funding = services.funding_record(user=who, scope=scope, organisation_id=organisation.pk, amount_fen=150_000,
                                      received_on=timezone.localdate(), source_id=company.pk, source_sector="state")
    assert funding.source_sector == "capital"
    for amount in (0, -5, True):
        with pytest.raises(Invalid):
            services.funding_record(user=who, scope=scope, organisation_id=organisation.pk, amount_fen=amount,
                                    received_on=timezone.localdate(), source_id=company.pk)
    with pytest.raises(Invalid):  # a date in the future
        services.funding_record(user=who, scope=scope, organisation_id=organisation.pk, amount_fen=100,
                                received_on=timezone.localdate() + timedelta(days=1), source_id=company.pk)
    assert organisation.fundings.count() == 1


def test_an_upheld_complaint_suspends_the_organisation_and_its_history_names_it() -> None:
    who, scope = district()
    organisation = registered(hub_actor(), verified=True)
    resident = user("grid")
    from civicgrid.accounts.roles import scope_for

    complaint = services.complaint_file(user=resident, scope=scope_for(resident), organisation_id=organisation.pk,
                                        text="took relief meant for others")
    assert complaint.status == "open"
    with pytest.raises(Invalid):
        services.complaint_resolve(user=who, scope=scope, complaint_id=complaint.pk, upheld=False, resolution="no",
                                   suspend=True)
    services.complaint_resolve(user=who, scope=scope, complaint_id=complaint.pk, upheld=True,
                               resolution="confirmed by three households", suspend=True)
    organisation.refresh_from_db()
    assert organisation.verification == "suspended"
    assert "confirmed by three households" in organisation.verification_reason
    assert organisation.verification_changes.filter(to_state="suspended", complaint=complaint).exists()
    with pytest.raises(Conflict):
        services.complaint_resolve(user=who, scope=scope, complaint_id=complaint.pk, upheld=False, resolution="again")
    assert Complaint.objects.get(pk=complaint.pk).status == "upheld"
