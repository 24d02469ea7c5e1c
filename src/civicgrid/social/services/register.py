"""The register of social organisations: registering, verifying, incubating, and the evidence each step
stands on (capacity assessments, trainings, funding), and complaints that reach the verification state."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from civicgrid.core import audit
from civicgrid.core.errors import Conflict, Invalid, NotFound
from civicgrid.core.limits import bounded_text, whole_number
from civicgrid.core.locking import locked, serialised_block
from civicgrid.core.scoping import Scope, require, scoped
from civicgrid.registry.models import Actor
from civicgrid.social.conf import social_setting
from civicgrid.social.events import SocialEvent
from civicgrid.social.models import (
    MAX_FEN,
    STAGES,
    AssessmentRating,
    CapacityAssessment,
    Complaint,
    Funding,
    Organisation,
    StageChange,
    Training,
    VerificationChange,
)
from civicgrid.social.uscc import uscc_problem

EARLIEST = date(2000, 1, 1)  # no record of the register is older (GB 32100 itself dates from 2015)


def _reason(value: Any, field: str = "reason") -> str:
    text = bounded_text(value, field)
    if not text:
        raise Invalid({field: _("Give a reason.")})
    return text


def _day(value: Any, field: str) -> date:
    if not isinstance(value, date):
        raise Invalid({field: _("Enter a date.")})
    if value < EARLIEST or value > timezone.localdate():
        raise Invalid({field: _("The date must lie between %(first)s and today.") % {"first": EARLIEST.isoformat()}})
    return value


def _organisation(scope: Scope, organisation_id: Any, *, lock: bool = True) -> Organisation:
    """The organisation in the acting scope (locked for the change), or "not found"."""
    if not isinstance(organisation_id, int) or isinstance(organisation_id, bool):
        raise NotFound(_("Unknown organisation."))
    found = scoped(Organisation.objects.filter(pk=organisation_id), scope)
    organisation = (locked(found) if lock else found).select_related("actor").first()
    if organisation is None:
        raise NotFound(_("Unknown organisation."))
    return organisation


def credit_code_clean(value: Any) -> str:
    """The unified social credit code upper-cased, or Invalid with the reason (GB 32100-2015)."""
    code = bounded_text(value, "credit_code", max_chars=40).upper()
    problem = uscc_problem(code)
    if problem:
        words = {"length": _("must be 18 characters"),
                 "characters": _("holds a character outside the code's alphabet (digits and capitals without I, O, "
                                 "S, V, Z)"),
                 "check character": _("its check character is wrong")}
        raise Invalid({"credit_code": _("Not a valid unified social credit code: %(why)s.") % {"why": words[problem]}})
    return code


def organisation_register(*, user: Any, scope: Scope, actor_id: Any, credit_code: Any,
                          hub_id: int | None = None) -> Organisation:
    """Put a society-sector actor in the register (state "applied", stage "incubating")."""
    require(scope, "social_manage")
    code = credit_code_clean(credit_code)
    with serialised_block():
        actor = scoped(Actor.objects.filter(pk=actor_id if isinstance(actor_id, int) else 0), scope).first()
        if actor is None:
            raise Invalid({"actor": _("Unknown organisation.")})
        if actor.sector != "society":
            raise Invalid({"actor": _("Only an actor of the society sector is a social organisation.")})
        hub = None
        if hub_id is not None:
            hub = scoped(Actor.objects.filter(pk=hub_id), scope).first()
            if hub is None:
                raise Invalid({"hub": _("Unknown organisation.")})
        if Organisation.objects.filter(actor=actor).exists():
            raise Conflict(_("This organisation is already in the register."), field="actor")
        if Organisation.objects.filter(credit_code=code).exists():
            raise Conflict(_("Another organisation is registered under this credit code."), field="credit_code")
        now = timezone.now()
        organisation = Organisation.objects.create(actor=actor, credit_code=code, hub=hub, stage_since=now.date())
        VerificationChange.objects.create(organisation=organisation, to_state=organisation.verification,
                                          reason=_("entered in the register"), at=now, by=audit.acting_user(user))
        StageChange.objects.create(organisation=organisation, to_stage=organisation.stage, on=now.date(),
                                   reason=_("entered in the register"), by=audit.acting_user(user), at=now)
        audit.record(user=user, event=SocialEvent.ORGANISATION_REGISTERED, instance=organisation,
                     new=audit.snapshot(organisation))
        return organisation


def organisation_verify(*, user: Any, scope: Scope, organisation_id: int, state: str, reason: Any,
                        complaint: Complaint | None = None) -> Organisation:
    """Change the verification state (applied, verified, suspended), with a reason; dated in the history."""
    require(scope, "social_manage")
    if state not in Organisation.Verification.values:
        raise Invalid({"state": _("Unknown verification state.")})
    text = _reason(reason)
    with serialised_block():
        organisation = _organisation(scope, organisation_id)
        return _set_verification(user, organisation, state, text, complaint)


def _set_verification(user: Any, organisation: Organisation, state: str, reason: str,
                      complaint: Complaint | None) -> Organisation:
    if organisation.verification == state:
        raise Conflict(_("The organisation is already %(state)s.") % {"state": organisation.get_verification_display()},
                       field="state")
    VerificationChange.objects.create(organisation=organisation, from_state=organisation.verification, to_state=state,
                                      reason=reason, complaint=complaint, at=timezone.now(), by=audit.acting_user(user))
    audit.update_fields(user=user, event=SocialEvent.VERIFICATION_CHANGED, instance=organisation,
                        changes={"verification": state, "verification_reason": reason})
    return organisation


def assessment_record(*, user: Any, scope: Scope, organisation_id: int, ratings: dict[str, Any], assessed_on: Any,
                      note: Any = "") -> CapacityAssessment:
    """Rate every configured indicator 1 to 5; the score is their mean (two decimals). The latest assessment's
    score is the organisation's."""
    require(scope, "social_manage")
    indicators: dict[str, Any] = social_setting("indicators")
    unknown = sorted(set(ratings) - set(indicators))
    if unknown:
        raise Invalid({"ratings": _("Unknown indicator: %(codes)s.") % {"codes": ", ".join(unknown)}})
    values = {}
    for code in indicators:
        if code not in ratings or ratings[code] in (None, ""):
            raise Invalid({f"rating_{code}": _("Rate this indicator from 1 to 5.")})
        values[code] = whole_number(ratings[code], f"rating_{code}", minimum=1, maximum=5)
    day = _day(assessed_on, "assessed_on")
    text = bounded_text(note, "note")
    score = (Decimal(sum(values.values())) / len(values)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    with serialised_block():
        organisation = _organisation(scope, organisation_id)
        assessment = CapacityAssessment.objects.create(organisation=organisation, assessed_on=day, score=score,
                                                       note=text, by=audit.acting_user(user), at=timezone.now())
        AssessmentRating.objects.bulk_create(
            AssessmentRating(assessment=assessment, indicator=code, words_en=indicators[code][0],
                             words_zh=indicators[code][1], rating=rating) for code, rating in values.items())
        # the ratings are rows of their own, written once with the assessment and never changed
        audit.record(user=user, event=SocialEvent.ASSESSMENT_RECORDED, instance=assessment,
                     new=audit.snapshot(assessment), place_path=audit.place_path_of(organisation))
        latest = organisation.assessments.order_by("-assessed_on", "-id").first()
        if latest is not None and latest.pk == assessment.pk:
            audit.update_fields(user=user, event=SocialEvent.ASSESSMENT_RECORDED, instance=organisation,
                                changes={"score": score})
        return assessment


def training_record(*, user: Any, scope: Scope, organisation_id: int, title: Any, held_on: Any, attendees: Any,
                    provider: Any = "") -> Training:
    require(scope, "social_manage")
    name = bounded_text(title, "title", max_chars=120)
    if not name:
        raise Invalid({"title": _("Name the training.")})
    day = _day(held_on, "held_on")
    count = whole_number(attendees, "attendees", minimum=1, maximum=10_000)
    given_by = bounded_text(provider, "provider", max_chars=120)
    with serialised_block():
        organisation = _organisation(scope, organisation_id)
        training = Training.objects.create(organisation=organisation, title=name, provider=given_by, held_on=day,
                                           attendees=count, at=timezone.now())
        audit.record(user=user, event=SocialEvent.TRAINING_RECORDED, instance=training, new=audit.snapshot(training),
                     place_path=audit.place_path_of(organisation))
        return training


def funding_record(*, user: Any, scope: Scope, organisation_id: int, amount_fen: Any, received_on: Any,
                   source_id: int | None = None, source_name: Any = "", source_sector: str = "",
                   purpose: Any = "") -> Funding:
    """Money received, in fen. A source actor gives its own sector; a source outside the registry needs
    a name and a sector."""
    require(scope, "social_manage")
    amount = whole_number(amount_fen, "amount", minimum=1, maximum=MAX_FEN)
    day = _day(received_on, "received_on")
    name = bounded_text(source_name, "source_name", max_chars=120)
    text = bounded_text(purpose, "purpose", max_chars=200)
    source = None
    if source_id is not None:
        source = Actor.objects.filter(pk=source_id).first()
        if source is None:
            raise Invalid({"source": _("Unknown organisation.")})
        source_sector = source.sector
    elif source_sector not in ("state", "capital", "society") or not name:
        raise Invalid({"source_sector": _("Name the funder and its sector.")})
    with serialised_block():
        organisation = _organisation(scope, organisation_id)
        funding = Funding.objects.create(organisation=organisation, source=source, source_name=name or str(source),
                                         source_sector=source_sector, amount_fen=amount, received_on=day,
                                         purpose=text, at=timezone.now())
        audit.record(user=user, event=SocialEvent.FUNDING_RECORDED, instance=funding, new=audit.snapshot(funding),
                     place_path=audit.place_path_of(organisation))
        return funding


def evidence(organisation: Organisation, *, until: date) -> tuple[CapacityAssessment | None, int, int]:
    """What a step up the ladder stands on at ``until``: the latest assessment, trainings attended and
    funding received (fen), counted up to that day."""
    assessment = organisation.assessments.filter(assessed_on__lte=until).order_by("-assessed_on", "-id").first()
    trainings = organisation.trainings.filter(held_on__lte=until).count()
    funding = organisation.fundings.filter(received_on__lte=until).aggregate(s=Sum("amount_fen"))["s"] or 0
    return assessment, trainings, int(funding)


def stage_change(*, user: Any, scope: Scope, organisation_id: int, to_stage: str, on: Any, reason: Any) -> StageChange:
    """Move an organisation one step up the incubation ladder (verified, with the evidence the configured
    rules ask for) or back down (with a reason). Dated and kept in the history."""
    require(scope, "social_manage")
    if to_stage not in STAGES:
        raise Invalid({"to_stage": _("Unknown incubation stage.")})
    day = _day(on, "on")
    text = _reason(reason)
    with serialised_block():
        organisation = _organisation(scope, organisation_id)
        now_index, to_index = STAGES.index(organisation.stage), STAGES.index(to_stage)
        if to_index == now_index:
            raise Conflict(_("The organisation is already at this stage."), field="to_stage")
        if organisation.stage_since and day < organisation.stage_since:
            raise Invalid({"on": _("The step cannot come before the current stage began.")})
        assessment, trainings, funding = evidence(organisation, until=day)
        if to_index > now_index:
            _check_step_up(organisation, to_stage, to_index - now_index, assessment, trainings, funding)
        change = StageChange.objects.create(
            organisation=organisation, from_stage=organisation.stage, to_stage=to_stage, on=day, reason=text,
            assessment=assessment, trainings=trainings, funding_fen=funding, by=audit.acting_user(user),
            at=timezone.now())
        audit.update_fields(user=user, event=SocialEvent.STAGE_CHANGED, instance=organisation,
                            changes={"stage": to_stage, "stage_since": day})
        return change


def _check_step_up(organisation: Organisation, to_stage: str, steps: int, assessment: CapacityAssessment | None,
                   trainings: int, funding: int) -> None:
    if steps > 1:
        raise Conflict(_("An organisation moves up one stage at a time."), field="to_stage")
    if not organisation.is_verified:
        raise Conflict(_("Only a verified organisation moves up the incubation ladder."), field="to_stage")
    rule = social_setting("stage_rules")[to_stage]
    missing = []
    if assessment is None or float(assessment.score) < rule["min_score"]:
        missing.append(_("a capacity assessment scoring at least %(score)s (latest: %(have)s)") % {
            "score": rule["min_score"], "have": assessment.score if assessment else _("none")})
    if trainings < rule["min_trainings"]:
        missing.append(_("%(n)d trainings attended (so far %(have)d)") % {"n": rule["min_trainings"], "have": trainings})
    if funding < rule["min_funding_yuan"] * 100:
        missing.append(_("%(n)s yuan of funding received (so far %(have)s)") % {
            "n": f"{rule['min_funding_yuan']:,}", "have": f"{funding / 100:,.0f}"})
    if missing:
        raise Conflict(_("Not enough evidence for this step: %(missing)s.") % {"missing": "; ".join(missing)},
                       field="to_stage")


def complaint_file(*, user: Any, scope: Scope, organisation_id: int, text: Any) -> Complaint:
    """Record a complaint about an organisation; it shows beside its verification state until resolved."""
    require(scope, "social")
    words = bounded_text(text, "text")
    if not words:
        raise Invalid({"text": _("Say what the complaint is.")})
    with serialised_block():
        organisation = _organisation(scope, organisation_id)
        complaint = Complaint.objects.create(organisation=organisation, text=words, filed_by=audit.acting_user(user),
                                             filed_at=timezone.now())
        audit.record(user=user, event=SocialEvent.COMPLAINT_FILED, instance=complaint, new=audit.snapshot(complaint),
                     place_path=audit.place_path_of(organisation))
        return complaint


def complaint_resolve(*, user: Any, scope: Scope, complaint_id: int, upheld: bool, resolution: Any,
                      suspend: bool = False) -> Complaint:
    """Uphold or dismiss a complaint, with the reason; an upheld complaint may suspend the organisation
    (its verification history then names the complaint)."""
    require(scope, "social_manage")
    text = _reason(resolution, "resolution")
    if suspend and not upheld:
        raise Invalid({"suspend": _("Only an upheld complaint suspends an organisation.")})
    with serialised_block():
        organisation_id = Complaint.objects.filter(pk=complaint_id).values_list("organisation_id", flat=True).first()
        organisation = _organisation(scope, organisation_id)  # the organisation first, then the complaint
        complaint = locked(Complaint.objects.filter(pk=complaint_id)).get()
        if complaint.status != Complaint.Status.OPEN:
            raise Conflict(_("This complaint is already resolved."))
        audit.update_fields(user=user, event=SocialEvent.COMPLAINT_RESOLVED, instance=complaint, changes={
            "status": Complaint.Status.UPHELD if upheld else Complaint.Status.DISMISSED, "resolution": text,
            "resolved_by": audit.acting_user(user), "resolved_at": timezone.now()},
            place_path=audit.place_path_of(organisation))
        if suspend and organisation.verification != Organisation.Verification.SUSPENDED:
            _set_verification(user, organisation, Organisation.Verification.SUSPENDED,
                              (_("complaint upheld: %(text)s") % {"text": text})[:500], complaint)
        return complaint
