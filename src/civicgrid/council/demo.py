"""Demo data for council and covenants: a year of meetings in each community, sized by its growth profile
(:func:`civicgrid.engine.social_growth.growth_profiles` over the sorted community codes).

Assumptions, labelled as such (the seeds give no numbers for them):

* the profile's ``meetings`` are spread evenly over the past year; a share ``resident_decision_share`` of
  them (rounded) is convened by residents' own bodies (the residents' committee, or the building
  self-management group acting as a residents' council), the rest by the party committee or, where the
  enterprise group dominates (the "fused" profile, seed 001), mostly by the enterprise group;
* each meeting invites the households of one grid (in turn), ``ATTENDANCE`` of them come, the quorum is a
  third of those invited; each meeting holds ``POLLS_PER_MEETING`` polls whose votes are drawn with a
  ``YES_SHARE`` chance of yes, and every poll that passes becomes a published decision;
* a decision on a topic that needs work opens a grid case (through the cases app's service) with the
  chance ``CASE_SHARE``;
* each community's covenant has a first version adopted by the first passed decision of a residents'
  body (or of any body where there is none) and a second draft open for comment; households sign the
  version in force with the chance ``SIGN_SHARE`` times how much residents decide themselves.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from civicgrid.core import audit
from civicgrid.core.scoping import PLATFORM
from civicgrid.council.checkin import new_nonce
from civicgrid.council.events import CouncilEvent
from civicgrid.council.models import (
    AgendaItem,
    Body,
    Clause,
    ClauseComment,
    Covenant,
    CovenantVersion,
    Decision,
    Invitation,
    Meeting,
    Poll,
    Signature,
    Vote,
)
from civicgrid.engine.social_growth import growth_profiles
from civicgrid.registry.models import Actor, Household, Place

ATTENDANCE = 0.55
POLLS_PER_MEETING = 2
YES_SHARE = 0.7
CASE_SHARE = 0.5
SIGN_SHARE = 0.8
MAX_INVITED = 60  # households invited per meeting (one grid's, at most this many)

# actor code suffix in the generated registry (engine.synth) -> body kind
BODY_KINDS = {"A01": Body.Kind.PARTY_COMMITTEE, "A02": Body.Kind.RESIDENTS_COMMITTEE,
              "A06": Body.Kind.ENTERPRISE_BOARD, "A08": Body.Kind.RESIDENTS_COUNCIL}
TOPICS = [
    ("加装电梯意见征集", "同意按楼栋分批加装电梯，费用按楼层分摊方案公示两周。", True),
    ("楼道堆物清理", "本月内完成各楼道堆物清理，由网格员通知到户。", True),
    ("小区停车管理", "试行夜间临时停车登记，三个月后评估。", False),
    ("垃圾分类督导", "每周六上午组织志愿者在投放点督导。", True),
    ("老年食堂开办", "在党群服务中心开办老年助餐点，优先保障独居和高龄老人。", False),
    ("公共空间改造", "将闲置自行车棚改造为儿童活动区。", True),
    ("防汛预案演练", "汛期前组织一次全社区防汛演练。", False),
    ("物业服务评议", "每季度开展一次物业服务满意度评议，结果公示。", False),
]
CLAUSES = [
    "爱护公共设施，不在楼道、消防通道堆放物品。",
    "垃圾分类投放，定时定点，不乱扔乱倒。",
    "文明养犬，出门牵绳，及时清理犬只粪便。",
    "邻里互助，关心独居老人和困难家庭。",
    "遇到突发事件听从社区统一安排，主动报告情况。",
    "重大公共事务通过居民议事会协商决定。",
]
COMMENTS = ["建议写明具体时间。", "赞成。", "希望增加对租户的要求。", "这一条要有人督促落实。"]


def demo_load(*, households: int, seed: int) -> list[str]:
    if Body.objects.exists():
        return []  # idempotent: the demo data is there already
    communities = list(Place.objects.filter(level="community").order_by("code"))
    profiles = growth_profiles([c.code for c in communities])
    lines = []
    with transaction.atomic():
        for i, community in enumerate(communities):
            lines.append(_community(community, profiles[community.code], np.random.default_rng([seed, 13, i])))
        audit.record_bulk(user=None, event=CouncilEvent.DEMO_LOADED, model=Decision,
                          ids=list(Decision.objects.values_list("id", flat=True)),
                          counts={"meetings": Meeting.objects.count(), "decisions": Decision.objects.count(),
                                  "signatures": Signature.objects.count()},
                          summary="")
    return lines


def _bodies(community: Place) -> dict[str, Body]:
    actors = {a.code.rsplit("-", 1)[-1]: a for a in Actor.objects.filter(service_area=community)}
    return {suffix: Body.objects.create(actor=actors[suffix], kind=kind)
            for suffix, kind in BODY_KINDS.items() if suffix in actors}


def _community(community: Place, profile: Any, rng: np.random.Generator) -> str:
    bodies = _bodies(community)
    residents_bodies = [b for b in bodies.values() if b.is_residents_body]
    others = [b for b in bodies.values() if not b.is_residents_body]
    if not bodies:
        return f"council: {community.code}: no bodies in the registry"
    n = profile.meetings
    by_residents = round(n * profile.resident_decision_share) if residents_bodies else 0
    convened = rng.permutation([True] * by_residents + [False] * (n - by_residents))
    grids = list(Place.objects.filter(level="grid", path__startswith=community.path).order_by("code"))
    now = timezone.now().replace(microsecond=0, second=0)
    from civicgrid.cases.models import CaseCategory

    category = CaseCategory.objects.filter(active=True).order_by("order", "code").first()
    decisions: list[Decision] = []
    for k, residents in enumerate(convened):
        if residents:
            body = residents_bodies[k % len(residents_bodies)]
        elif profile.style == "fused" and Body.Kind.ENTERPRISE_BOARD in {b.kind for b in others}:
            # the enterprise group convenes two in three of the rest (seed 001)
            body = next(b for b in others if b.kind == (Body.Kind.ENTERPRISE_BOARD if k % 3 else Body.Kind.PARTY_COMMITTEE))
        else:
            body = (others or residents_bodies)[k % len(others or residents_bodies)]
        when = now - timedelta(days=int(365 * (n - k) / (n + 1)))
        decisions += _meeting(community, body, grids[k % len(grids)] if grids else None, when, rng, category)
    _meeting(community, (residents_bodies or others)[0], grids[0] if grids else None, now + timedelta(days=7), rng,
             category, upcoming=True)
    signed = _covenant(community, decisions, profile, rng, now)
    cases = sum(1 for d in decisions if d.case_id)
    share = sum(d.residents_body for d in decisions) / len(decisions) if decisions else 0.0
    sectors = ", ".join(f"{s} {sum(d.sector == s for d in decisions)}" for s in ("state", "capital", "society"))
    return (f"council: {community.code} ({profile.style}): {n} meetings, {len(decisions)} decisions "
            f"({share:.0%} by residents' own bodies; by sector: {sectors}), {cases} cases opened, "
            f"covenant signed by {signed} households")


def _meeting(community: Place, body: Body, grid: Place | None, when: Any, rng: np.random.Generator, category: Any,
             upcoming: bool = False) -> list[Decision]:
    topics = [TOPICS[int(i)] for i in rng.choice(len(TOPICS), size=POLLS_PER_MEETING, replace=False)]
    homes = list(Household.objects.filter(place_path__startswith=(grid or community).path)
                 .order_by("code").values_list("id", "place_path")[:MAX_INVITED])
    quorum = max(1, math.ceil(len(homes) / 3))
    meeting = Meeting.objects.create(
        community=community, place_path=community.path, body=body, title=f"{body.actor.name}议事会：{topics[0][0]}",
        starts_at=when, location=f"{community.name}党群服务中心", quorum=quorum, checkin_nonce=new_nonce(),
        state=Meeting.State.PLANNED if upcoming else Meeting.State.CLOSED,
        minutes="" if upcoming else "会议按议程逐项协商，表决结果见下。")
    AgendaItem.objects.bulk_create([AgendaItem(meeting=meeting, number=i, title=t[0]) for i, t in enumerate(topics, 1)])
    came = rng.random(len(homes)) < (0 if upcoming else ATTENDANCE)
    invitations = Invitation.objects.bulk_create([
        Invitation(meeting=meeting, household_id=h, invited_as=grid.name if grid else community.name,
                   attended_at=when if c else None, attended_how=("qr" if rng.random() < 0.5 else "staff") if c else "")
        for (h, _p), c in zip(homes, came, strict=True)])
    if upcoming or int(came.sum()) < quorum:
        return []
    decisions = []
    for title, text, work in topics:
        poll = Poll.objects.create(meeting=meeting, question=title, state=Poll.State.CLOSED, opened_at=when,
                                   closed_at=when + timedelta(minutes=20))
        votes = [Vote(poll=poll, invitation=inv, household_id=inv.household_id, at=when,
                      choice="yes" if rng.random() < YES_SHARE else str(rng.choice(["no", "abstain"])))
                 for inv in invitations if inv.attended_at]
        Vote.objects.bulk_create(votes)
        if sum(v.choice == "yes" for v in votes) <= sum(v.choice == "no" for v in votes):
            continue  # the poll did not pass: no decision (the published rule)
        decision = Decision.objects.create(
            meeting=meeting, body=body, sector=body.actor.sector, body_kind=body.kind,
            residents_body=body.is_residents_body, title=title, text=text, poll=poll, present=int(came.sum()),
            taken_at=when + timedelta(minutes=30), published_at=when + timedelta(days=1), place_path=community.path)
        if work and category is not None and grid is not None and rng.random() < CASE_SHARE:
            from civicgrid.cases.services import case_report

            case = case_report(user=None, scope=PLATFORM, category=category, description=f"{title}：{text}",
                               place=grid, source=f"council:{decision.pk}", reporter_label=body.actor.name[:80],
                               now=when + timedelta(days=1))
            decision.case = case
            decision.save(update_fields=["case"])
        decisions.append(decision)
    return decisions


def _covenant(community: Place, decisions: list[Decision], profile: Any, rng: np.random.Generator, now: Any) -> int:
    covenant = Covenant.objects.create(community=community, place_path=community.path,
                                       title=f"{community.name}居民公约")
    adopting = next((d for d in decisions if d.residents_body), decisions[0] if decisions else None)
    first = CovenantVersion.objects.create(covenant=covenant, number=1)
    Clause.objects.bulk_create([Clause(version=first, number=i, text=t) for i, t in enumerate(CLAUSES[:5], 1)])
    if adopting is None:
        return 0
    first.state, first.adopted_by, first.adopted_at = CovenantVersion.State.IN_FORCE, adopting, adopting.taken_at
    first.save()
    draft = CovenantVersion.objects.create(covenant=covenant, number=2, based_on=first)
    clauses = Clause.objects.bulk_create([Clause(version=draft, number=i, text=t) for i, t in enumerate(CLAUSES, 1)])
    n_comments = int(rng.poisson(2 + 10 * profile.resident_decision_share))
    ClauseComment.objects.bulk_create([
        ClauseComment(clause=clauses[int(rng.integers(len(clauses)))], author_label="居民",
                      text=COMMENTS[int(rng.integers(len(COMMENTS)))], at=now - timedelta(days=int(rng.integers(1, 20))))
        for _ in range(n_comments)])
    homes = np.array(Household.objects.filter(place_path__startswith=community.path).values_list("id", flat=True))
    signing = homes[rng.random(len(homes)) < SIGN_SHARE * profile.resident_decision_share]
    Signature.objects.bulk_create([Signature(version=first, household_id=int(h), channel="paper",
                                             at=adopting.taken_at + timedelta(days=int(rng.integers(1, 60))))
                                   for h in signing])
    return len(signing)
