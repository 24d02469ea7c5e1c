"""A year of volunteers for the demo, sized per community by the engine's social-growth profiles
(``civicgrid.engine.social_growth``): the hub community gets many volunteers with hours, paired helpers
and a busy time bank, the fused one few. Deterministic for a seed.

How the engine's monthly counts become records (each a demo assumption, like the counts themselves):
volunteers are residents of the community (a person and a post in a society-sector team with the
profile's share, otherwise in a state or capital actor serving it); each month's ``trainings`` become
course certificates; each month's ``care_visits`` become visits done by paired helpers, their minutes
sized so that the month's visits carry its ``volunteer_hours``; a share of them (1 - ``visits_on_time``)
is done late or missed; about a quarter earn time-bank credits from the community's pool, and a tenth of
those are spent again. The registry's first volunteer (the demo's ``volunteer`` login) is registered
without the elderly-care course, so the demo can show a claim refused and then accepted.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

import numpy as np
from django.db import transaction
from django.utils import timezone

from civicgrid.core import audit
from civicgrid.engine.social_growth import growth_profiles, monthly_counts
from civicgrid.registry.models import Actor, Person, Place, Post, Resident
from civicgrid.volunteers.events import VolunteersEvent
from civicgrid.volunteers.models import (
    SKILLS,
    CareVisit,
    Certificate,
    Course,
    HelperAssignment,
    HoursEntry,
    TimeAccount,
    TimeTransfer,
    Volunteer,
)
from civicgrid.volunteers.selectors import vulnerable_residents
from civicgrid.volunteers.services import add_months

COURSES = (("elderly-care", "居家养老照护基础", "care_visit", 24), ("first-aid", "应急救护（红十字）", "", 24),
           ("psy-first-aid", "心理急救", "psychosocial", 24), ("evacuation", "社区应急疏散演练", "", 12))
MAX_VOLUNTEERS = 600  # per community, to keep the demo's size bounded whatever the households
OPEN_VISITS = 3  # per community, waiting for a volunteer


def demo_load(*, households: int, seed: int) -> list[str]:
    if Course.objects.exists():
        return []  # idempotent: the demo data is there already
    with transaction.atomic():
        courses = [Course.objects.create(code=c, name=n, required_for=k, valid_months=v) for c, n, k, v in COURSES]
        lines = [_first_volunteer()]
        communities = list(Place.objects.filter(level="community").order_by("code"))
        profiles = growth_profiles([c.code for c in communities])
        for i, community in enumerate(communities):
            lines.append(_community(community, profiles[community.code], courses, seed=seed + i))
        audit.record_bulk(user=None, event=VolunteersEvent.DEMO_LOADED, model=Volunteer,
                          ids=Volunteer.objects.values_list("pk", flat=True),
                          counts={"volunteers": Volunteer.objects.count(), "hours": HoursEntry.objects.count(),
                                  "visits": CareVisit.objects.count()})
    return [line for line in lines if line]


def _first_volunteer() -> str:
    post = Post.objects.filter(role="volunteer").select_related("person__resident__household", "actor__service_area") \
        .order_by("id").first()
    if post is None:
        return ""
    resident = post.person.resident
    home = resident.household.building if resident else \
        Place.objects.filter(level="grid", path__startswith=post.actor.service_area.path).order_by("path").first()
    if home is None:
        return ""
    Volunteer.objects.create(person=post.person, home=home, place_path=home.path, skills=["lifting"],
                             joined_on=timezone.localdate())
    return f"volunteer {post.person.name}: registered without the elderly-care course"


def _community(community: Place, profile, courses: list[Course], *, seed: int) -> str:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    today = timezone.localdate()
    start = today - timedelta(days=365)
    # the community's resident ids only: the few chosen are read whole (decrypting every resident of a large
    # community cost most of the demo's time at 100,000 households)
    resident_ids = list(Resident.objects.filter(household__place_path__startswith=community.path)
                        .order_by("id").values_list("id", flat=True))
    counts = monthly_counts(profile, residents=len(resident_ids), seed=seed)
    n = min(MAX_VOLUNTEERS, int(round(profile.volunteers_per_100_residents * len(resident_ids) / 100)))
    if not resident_ids or n == 0:
        return ""
    society = list(Actor.objects.filter(sector="society", service_area__path__in=_above(community)).order_by("code"))
    others = list(Actor.objects.exclude(sector="society").filter(service_area__path__in=_above(community))
                  .order_by("code"))
    chosen = [resident_ids[int(idx)] for idx in sorted(rng.choice(len(resident_ids), size=min(n, len(resident_ids)),
                                                                  replace=False))]
    residents = Resident.objects.select_related("household__building").in_bulk(chosen)
    # people, posts and volunteers already there (a rerun on a partly loaded world), read once for all
    codes = [f"vol-{residents[rid].code}" for rid in chosen]
    people = {p.code: p for p in Person.objects.filter(code__in=codes)}
    missing = [Person(code=f"vol-{residents[rid].code}", name=residents[rid].name, resident=residents[rid])
               for rid in chosen if f"vol-{residents[rid].code}" not in people]
    people.update({p.code: p for p in Person.objects.bulk_create(missing)})
    posted = set(Post.objects.filter(person__code__in=codes, role="volunteer", place=None)
                 .values_list("person_id", "actor_id"))
    registered = set(Volunteer.objects.filter(person__code__in=codes).values_list("person_id", flat=True))
    volunteers, posts = [], []
    skill_codes = sorted(SKILLS)
    for k, rid in enumerate(chosen):
        r, person = residents[rid], people[f"vol-{residents[rid].code}"]
        teams = society if (society and (rng.random() < profile.society_volunteer_share or not others)) else others
        if teams and (person.pk, teams[k % len(teams)].pk) not in posted:
            posts.append(Post(person=person, actor=teams[k % len(teams)], role="volunteer", place=None))
            posted.add((person.pk, teams[k % len(teams)].pk))
        if person.pk in registered:
            continue
        skills = sorted({skill_codes[int(j)] for j in rng.choice(len(skill_codes), size=2, replace=False)})
        volunteers.append(Volunteer(person=person, home=r.household.building, place_path=r.household.place_path,
                                    skills=skills, days=int(rng.integers(1, 128)), from_hour=8, to_hour=20,
                                    joined_on=start))
    Post.objects.bulk_create(posts)
    Volunteer.objects.bulk_create(volunteers)
    volunteers = list(Volunteer.objects.filter(person__code__in=[v.person.code for v in volunteers]).order_by("id"))
    if not volunteers:
        return ""
    months = [add_months(start, m) for m in range(12)]

    certificates = []
    for m, day in enumerate(months):
        for _i in range(int(counts["trainings"][m])):
            v = volunteers[int(rng.integers(len(volunteers)))]
            course = courses[int(rng.integers(len(courses)))]
            certificates.append(Certificate(volunteer=v, course=course, attended_on=day,
                                            expires_on=add_months(day, course.valid_months)))

    vulnerable = list(vulnerable_residents().filter(household__place_path__startswith=community.path)
                      .select_related("household").only("id", "household__grid_id", "household__place_path")
                      .order_by("id"))
    paired = [vulnerable[int(i)] for i in sorted(rng.choice(len(vulnerable), replace=False, size=int(round(
        profile.helper_coverage * len(vulnerable)))))] if vulnerable else []
    assignments = []
    trained = {c.volunteer.pk for c in certificates if c.course.pk == courses[0].pk}
    for j, r in enumerate(paired):
        helper = volunteers[j % len(volunteers)]
        assignments.append(HelperAssignment(resident=r, helper=helper.person, kind=HelperAssignment.Kind.VOLUNTEER,
                                            every_days=14, grid_id=r.household.grid_id,
                                            place_path=r.household.place_path, started_on=start))
        if helper.pk not in trained:  # a helper attended the elderly-care course when the pairing began
            trained.add(helper.pk)
            certificates.append(Certificate(volunteer=helper, course=courses[0], attended_on=start,
                                            expires_on=add_months(start, courses[0].valid_months)))
    Certificate.objects.bulk_create(certificates)
    HelperAssignment.objects.bulk_create(assignments)
    assignments = list(HelperAssignment.objects.filter(place_path__startswith=community.path).order_by("id"))
    by_person = {v.person_id: v for v in volunteers}

    visits, entries = _visits(rng, assignments, counts, months, profile.visits_on_time, today)
    CareVisit.objects.bulk_create(visits)
    done = list(CareVisit.objects.filter(place_path__startswith=community.path, status=CareVisit.Status.DONE)
                .order_by("id"))
    now = timezone.now()
    for cv in done:
        serving = by_person.get(cv.visitor_id or 0)
        if serving is not None and cv.minutes and cv.done_at:
            entries.append(HoursEntry(volunteer=serving, source=HoursEntry.Source.CARE_VISIT, source_id=cv.pk,
                                      hours=(Decimal(cv.minutes) / 60).quantize(Decimal("0.01")),
                                      on=timezone.localdate(cv.done_at), place_path=cv.place_path, at=now))
    HoursEntry.objects.bulk_create(entries)
    credits = _time_bank(rng, community, done, by_person, now)
    # a few visits still open for any trained volunteer nearby (the demo's claim, refused then accepted)
    paired_ids = {r.pk for r in paired}
    unpaired = [r for r in vulnerable if r.pk not in paired_ids][:OPEN_VISITS]
    CareVisit.objects.bulk_create([CareVisit(resident=r, grid_id=r.household.grid_id, place_path=r.household.place_path,
                                             due_on=today + timedelta(days=1 + k)) for k, r in enumerate(unpaired)])
    return (f"{community.name}: {len(volunteers)} volunteers, {len(certificates)} certificates, "
            f"{len(assignments)} paired helpers, {len(done)} care visits done, {credits} time-bank transfers")


def _visits(rng, assignments, counts, months, on_time, today):  # type: ignore[no-untyped-def]
    visits: list[CareVisit] = []
    if not assignments:
        return visits, []
    for m, day in enumerate(months):
        k = int(counts["care_visits"][m])
        minutes = int(np.clip(round(60 * int(counts["volunteer_hours"][m]) / max(k, 1)), 20, 240))
        for _i in range(k):
            a = assignments[int(rng.integers(len(assignments)))]
            due = day + timedelta(days=int(rng.integers(0, 28)))
            if due >= today:
                continue
            late = rng.random() >= on_time
            missed = late and rng.random() < 0.5
            done_day = due + timedelta(days=int(rng.integers(1, 5)) if late else 0)
            at = timezone.make_aware(datetime.combine(min(done_day, today), time(10)))
            visits.append(CareVisit(resident_id=a.resident_id, assignment=a, grid_id=a.grid_id,
                                    place_path=a.place_path, due_on=due, visitor_id=a.helper_id,
                                    status=CareVisit.Status.MISSED if missed else CareVisit.Status.DONE,
                                    done_at=None if missed else at, minutes=None if missed else minutes,
                                    outcome="" if missed else CareVisit.Outcome.WELL))
    return visits, []


def _time_bank(rng, community, done, by_person, now) -> int:  # type: ignore[no-untyped-def]
    pool = TimeAccount.objects.create(community=community, place_path=community.path)
    accounts: dict[int, TimeAccount] = {}
    transfers = []
    for v in done:
        if v.visitor_id not in by_person or rng.random() >= 0.25:
            continue
        account = accounts.get(v.visitor_id) or TimeAccount(
            person_id=v.visitor_id, community=community, place_path=community.path)
        accounts[v.visitor_id] = account
        transfers.append(TimeTransfer(from_account=pool, to_account=account, minutes=v.minutes, kind="earned",
                                      note="关爱探访", place_path=community.path, at=v.done_at))
        account.balance += v.minutes
        pool.balance -= v.minutes
        if rng.random() < 0.1:
            spend = int(min(account.balance, 60))
            transfers.append(TimeTransfer(from_account=account, to_account=pool, minutes=spend, kind="spent",
                                          note="兑换理发服务", place_path=community.path, at=now))
            account.balance -= spend
            pool.balance += spend
    TimeAccount.objects.bulk_create(accounts.values())  # with their final balances, in one statement
    TimeTransfer.objects.bulk_create(transfers)
    TimeAccount.objects.bulk_update([pool], ["balance"])
    return len(transfers)


def _above(community: Place) -> list[str]:
    from civicgrid.core.places import ancestors

    return ancestors(community.path)
