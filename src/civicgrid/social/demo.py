"""Demo data for the register of social organisations: a year of social growth in two contrasting styles.

:func:`civicgrid.engine.social_growth.growth_profiles` over the sorted community codes says which
community is which: the first is Sichuan-like (a hub organisation incubating many small organisations,
money mostly from the state and society), the second Baibuting-like (few organisations, one enterprise
group funding most of them), any others in between. Each organisation gets a credit code with a valid
check character, a verification and a stage drawn from the profile's shares, a dated stage history whose
every step stands on the evidence the stage rules ask for (an assessment, trainings, funding), and the
sources of its money drawn from the profile's ``capital_funding_share``. Every number here is an
assumption of the demo (see the engine module), deterministic for a seed.

If the demo holds an emergency in force, the hub community's verified organisations apply to serve and
most are admitted (the delivery service in their grids).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import numpy as np
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from civicgrid.core import audit
from civicgrid.emergency.models import Emergency
from civicgrid.engine.social_growth import GrowthProfile, growth_profiles
from civicgrid.registry.models import Actor, Place, Post
from civicgrid.social.conf import social_setting
from civicgrid.social.events import SocialEvent
from civicgrid.social.models import (
    STAGES,
    Admission,
    AssessmentRating,
    CapacityAssessment,
    Funding,
    Organisation,
    StageChange,
    Training,
    VerificationChange,
)
from civicgrid.social.uscc import check_character

# What the demo's new organisations are called (the community's name goes before each).
NAMES = ["长者关爱服务社", "儿童成长营", "邻里互助会", "残障友好服务队", "心理支持工作室", "社区厨房合作社",
         "青年志愿者协会", "文体活动队", "环保行动小组", "法律援助服务站", "家庭教育指导中心", "应急救援队",
         "巧手编织社", "读书会", "康复陪护服务社", "外来人口融入服务站"]
TRAININGS = ["社会组织财务管理", "志愿者管理实务", "项目设计与评估", "应急救援基础", "居家养老照护技能", "社区协商议事"]
DIVISION = {"hub": "510107", "fused": "420102", "middle": "510104"}  # 成都武侯, 武汉江岸, 成都锦江 (codes only)


def credit_code(*, style: str, number: int) -> str:
    """A demo unified social credit code: civil-affairs registration (5), a social service agency (2), the
    division code, an organisation code and the check character of GB 32100-2015."""
    first17 = f"52{DIVISION[style]}MJ{number:07d}"
    return first17 + check_character(first17)


def demo_load(*, households: int, seed: int) -> list[str]:
    if Organisation.objects.exists():
        return []  # idempotent: the demo organisations are there already
    communities = list(Place.objects.filter(level="community").order_by("code"))
    if not communities:
        return []
    with transaction.atomic():
        return _load(communities, seed)


def _load(communities: list[Place], seed: int) -> list[str]:
    rng = np.random.default_rng([seed, 12])
    profiles = growth_profiles([c.code for c in communities])
    today = timezone.localdate()
    lines, ids = [], []
    number = 0
    for community in communities:
        profile = profiles[community.code]
        actors, funders, hub = _actors(community, profile, rng)
        for i, actor in enumerate(actors):
            number += 1
            organisation = _grow(actor, profile, rng, today=today, number=number, funders=funders,
                                 hub=hub if actor != hub else None, first=i == 0)
            ids.append(organisation.pk)
        lines.append(f"social: {len(actors)} organisations in {community.name} ({profile.style})")
    admitted = _admissions(communities[0], rng)
    if admitted:
        lines.append(f"social: {admitted} admissions to the emergency in force")
    audit.record_bulk(user=None, event=SocialEvent.DEMO_LOADED, model=Organisation, ids=ids,
                      counts={"created": len(ids)}, summary="")
    return lines


def _actors(community: Place, profile: GrowthProfile, rng: np.random.Generator
            ) -> tuple[list[Actor], dict[str, list[Actor]], Actor | None]:
    """The organisations to register (existing society actors serving the community first; new ones up to
    the profile's number) and the funders of each sector."""
    subdistrict = community.parent
    around = Actor.objects.filter(service_area__in=[community, subdistrict]).order_by("code")
    hub = around.filter(sector="society", kind="social_organisation", service_area=subdistrict, code__endswith="-A03",
                        organisation__isnull=True).first() if profile.style == "hub" else None
    existing = [a for a in around.filter(service_area=community, sector="society",
                                         kind__in=("social_organisation", "volunteer_team"))]
    chosen = ([hub] if hub else []) + existing
    grids = list(Place.objects.filter(parent=community, level="grid").order_by("code"))
    new = []
    for k in range(max(0, profile.organisations - len(chosen))):
        area = grids[k % len(grids)] if grids and rng.random() < 0.5 else community
        new.append(Actor(code=f"{community.code}-S{k + 1:02d}", name=f"{community.name}{NAMES[k % len(NAMES)]}",
                         sector="society", kind="social_organisation", service_area=area,
                         capacities={"care_vulnerable": int(rng.integers(10, 40))}))
    Actor.objects.bulk_create(new)
    funders = {"state": list(around.filter(sector="state")), "society": list(around.filter(kind="foundation")),
               "capital": list(around.filter(sector="capital", kind="enterprise"))}
    if profile.style == "fused":  # one enterprise group funds (and in the seed staffs) almost everything
        group = Actor.objects.create(code=f"{community.code}-G01", name=f"{community.name[:2]}控股集团",
                                     sector="capital", kind="enterprise", service_area=community,
                                     capacities={"food_supply": 100, "shelter": 100})
        funders["capital"] = [group]
        # ... and staffs it: the community's own (state) office holders take the group's key posts too, the
        # fusion seed 001 found in Baibuting (the residents' committee answering to the enterprise)
        holders = list(Post.objects.filter(actor__service_area=community, actor__sector="state", is_key=True)
                       .order_by("id").values_list("person_id", flat=True).distinct()[:8])
        Post.objects.bulk_create([Post(person_id=person_id, actor=group, role="director" if i == 0 else "manager",
                                       is_key=True) for i, person_id in enumerate(holders)])
    return (chosen + new)[: max(profile.organisations, len(chosen[:1]))], funders, hub


def _grow(actor: Actor, profile: GrowthProfile, rng: np.random.Generator, *, today: date, number: int,
          funders: dict[str, list[Actor]], hub: Actor | None, first: bool) -> Organisation:
    """One organisation's year: registration, verification, assessments, trainings, funding, stage steps."""
    rules = social_setting("stage_rules")
    indicators = social_setting("indicators")
    start = today - timedelta(days=int(rng.integers(300, 365)))
    verified = first or rng.random() < profile.verified_share
    if first and profile.style == "hub":
        target = "independent"  # the hub organisation itself
    elif not verified or rng.random() < profile.incubating_share:
        target = "incubating"
    else:
        target = "growing" if rng.random() < 0.7 else "independent"
    steps = STAGES.index(target)
    now = timezone.now()
    organisation = Organisation.objects.create(actor=actor, credit_code=credit_code(style=profile.style, number=number),
                                               hub=hub, stage=target, stage_since=start)
    VerificationChange.objects.create(organisation=organisation, to_state="applied", reason="登记申请", at=now)
    if verified:
        organisation.verification = "verified"
        VerificationChange.objects.create(organisation=organisation, from_state="applied", to_state="verified",
                                          reason="材料齐全，年检合格", at=now)
    elif rng.random() < 0.4:
        organisation.verification = "suspended"
        organisation.verification_reason = "未按期参加年检"
        VerificationChange.objects.create(organisation=organisation, from_state="applied", to_state="suspended",
                                          reason=organisation.verification_reason, at=now)
    StageChange.objects.create(organisation=organisation, to_stage="incubating", on=start, reason="入驻孵化", at=now)
    # evidence first, then the steps it allows, spread over the year: what a step's rule asks for is dated
    # before that step, more comes at random over the year
    span = (today - start).days
    step_days = [int(k * span / (steps + 1)) for k in range(1, steps + 1)]
    training_days, grant_days = [], []
    for k, day in enumerate(step_days, start=1):
        rule = rules[STAGES[k]]
        training_days += rng.integers(1, day - 5, size=rule["min_trainings"]).tolist()
        grant_days += rng.integers(1, day - 5, size=-(-rule["min_funding_yuan"] // 5_000)).tolist()
    extra_trainings = 1 + int(rng.poisson(profile.training_per_volunteer))
    training_days += rng.integers(1, span, size=extra_trainings).tolist()
    grant_days += rng.integers(1, span, size=max(1, int(rng.poisson(2)))).tolist()
    trainings = [Training(organisation=organisation, title=TRAININGS[int(rng.integers(len(TRAININGS)))],
                          provider="社会组织服务中心", held_on=start + timedelta(days=int(d)),
                          attendees=int(rng.integers(2, 12)), at=now) for d in sorted(training_days)]
    Training.objects.bulk_create(trainings)
    fundings = []
    for d in sorted(grant_days):
        sector = "capital" if rng.random() < profile.capital_funding_share else ("state" if rng.random() < 0.6 else "society")
        pool = funders.get(sector) or funders["state"] or [actor]
        source = pool[int(rng.integers(len(pool)))]
        fundings.append(Funding(organisation=organisation, source=source, source_name=source.name,
                                source_sector=source.sector, amount_fen=int(rng.integers(5, 60)) * 100_000,
                                received_on=start + timedelta(days=int(d)), purpose="项目资助", at=now))
    Funding.objects.bulk_create(fundings)
    score = Decimal("2.00")
    previous = "incubating"
    for k in range(1, 1 + max(1, steps)):
        on = start + timedelta(days=step_days[k - 1] if k <= steps else span // 2)
        floor = rules[STAGES[min(k, 2)]]["min_score"] if k <= steps else 2.0
        ratings = {code: int(np.clip(round(floor + rng.normal(0.6, 0.5)), 1, 5)) for code in indicators}
        mean = Decimal(sum(ratings.values())) / len(ratings)
        if k <= steps and mean < Decimal(str(floor)):  # the demo's steps always stand on enough evidence
            ratings = {code: max(r, int(np.ceil(floor))) for code, r in ratings.items()}
            mean = Decimal(sum(ratings.values())) / len(ratings)
        score = mean.quantize(Decimal("0.01"))
        assessment = CapacityAssessment.objects.create(organisation=organisation, assessed_on=on - timedelta(days=3),
                                                       score=score, note="", at=now)
        AssessmentRating.objects.bulk_create(
            AssessmentRating(assessment=assessment, indicator=code, words_en=indicators[code][0],
                             words_zh=indicators[code][1], rating=r) for code, r in ratings.items())
        if k <= steps:
            stage = STAGES[k]
            StageChange.objects.create(
                organisation=organisation, from_stage=previous, to_stage=stage, on=on, reason="评估达标，进入下一阶段",
                assessment=assessment, trainings=sum(t.held_on <= on for t in trainings),
                funding_fen=sum(f.amount_fen for f in fundings if f.received_on <= on), at=now)
            previous, organisation.stage_since = stage, on
    organisation.score = score
    organisation.save()
    return organisation


def _admissions(community: Place, rng: np.random.Generator) -> int:
    """Applications and admissions to the emergency in force in ``community``, if the demo has one."""
    emergency = Emergency.objects.filter(community=community, status=Emergency.Status.ACTIVE).first()
    if emergency is None:
        return 0
    grids = list(Place.objects.filter(parent=community, level="grid").order_by("code"))
    now, rows = timezone.now(), []
    serving = Organisation.objects.filter(verification="verified").filter(
        Q(actor__service_area__path__startswith=community.path) | Q(actor__service_area=community.parent_id))
    for organisation in serving.select_related("actor").order_by("actor__code"):
        for grid in grids:
            if rng.random() < 0.3:
                admitted = rng.random() < 0.8
                rows.append(Admission(emergency=emergency, actor=organisation.actor, grid=grid, service_kind="delivery",
                                      applied_at=now, status="admitted" if admitted else "applied",
                                      decided_at=now if admitted else None))
    Admission.objects.bulk_create(rows)
    return sum(r.status == "admitted" for r in rows)
