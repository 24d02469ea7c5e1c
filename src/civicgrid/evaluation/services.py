"""Writes of the evaluation app: request a before/after comparison (queued as a job) and rerun one with its
inputs. Each writes its audit event in its transaction; the job is queued when that transaction commits."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from civicgrid.core import audit
from civicgrid.core.errors import Invalid
from civicgrid.core.scoping import Scope, get_in_scope, require, scoped
from civicgrid.emergency.models import Emergency
from civicgrid.evaluation.events import EvaluationEvent
from civicgrid.evaluation.models import MAX_COMPARISONS, Comparison
from civicgrid.evaluation.panel import SOURCES
from civicgrid.ops.jobs import enqueue
from civicgrid.registry.models import Place

JOB = "civicgrid.evaluation.jobs.run_comparison"


def emergency_words(emergency: Emergency) -> tuple[str, str]:
    """The event in English and in Chinese, for the two verdicts."""
    day = emergency.activated_at.date().isoformat()
    with translation.override("en"):
        en = f"the {str(emergency.get_hazard_display()).lower()} emergency of {day} in {emergency.community.name}"
    with translation.override("zh-hans"):
        zh = f"{emergency.community.name}{day}启动{emergency.get_hazard_display()}应急"
    return en, zh


def _queue(comparison: Comparison, *, user: Any) -> Comparison:
    audit.record(user=user, event=EvaluationEvent.COMPARISON_REQUESTED, instance=comparison,
                 new=audit.snapshot(comparison))
    enqueue(JOB, comparison.pk, name=f"comparison {comparison.pk}")
    return comparison


@transaction.atomic
def comparison_request(*, user: Any, scope: Scope, source: str, emergency_id: int | None = None,
                       community_id: int | None = None, day: date | None = None,
                       comparison_ids: list[int] | tuple[int, ...] = ()) -> Comparison:
    """Queue a comparison of ``source`` around an emergency's activation (``emergency_id``) or a date in a
    community (``community_id`` and ``day``), against comparison communities in scope."""
    require(scope, "analytics")
    if source not in SOURCES:
        raise Invalid({"outcome": _("Choose one of the outcomes listed.")})
    today = timezone.localdate()
    emergency = None
    if emergency_id is not None:
        emergency = get_in_scope(Emergency.objects.filter(is_drill=False).select_related("community"), scope,
                                 pk=emergency_id)
        community, event_day = emergency.community, timezone.localtime(emergency.activated_at).date()
        event_en, event_zh = emergency_words(emergency)
    elif community_id is not None and day is not None:
        community = get_in_scope(Place.objects.filter(level="community"), scope, pk=community_id)
        event_day = day
        event_en, event_zh = f"{day.isoformat()} in {community.name}", f"{community.name}{day.isoformat()}"
    else:
        raise Invalid({"emergency": _("Pick an emergency, or a community and a date.")})
    if event_day >= today:
        raise Invalid({"day": _("The date of the change must be in the past.")})
    chosen = sorted(set(comparison_ids) - {community.pk})
    if len(chosen) > MAX_COMPARISONS:
        raise Invalid({"comparisons": _("Choose at most %(n)d comparison communities.") % {"n": MAX_COMPARISONS}})
    found = set(scoped(Place.objects.filter(level="community", pk__in=chosen), scope).values_list("pk", flat=True))
    if found != set(chosen):
        raise Invalid({"comparisons": _("Choose comparison communities from the list.")})
    comparison = Comparison.objects.create(
        community=community, place_path=community.path, emergency=emergency, event_day=event_day, source=source,
        comparison_ids=chosen, until=today, event_en=event_en[:200], event_zh=event_zh[:200],
        requested_by=audit.acting_user(user))
    return _queue(comparison, user=user)


@transaction.atomic
def comparison_rerun(*, user: Any, scope: Scope, comparison_id: int) -> Comparison:
    """Queue a new comparison with the inputs of ``comparison_id``: the same records window, the same
    numbers (as long as the records of those days are unchanged)."""
    require(scope, "analytics")
    original = get_in_scope(Comparison.objects.all(), scope, pk=comparison_id)
    comparison = Comparison.objects.create(
        community_id=original.community_id, place_path=original.place_path, emergency_id=original.emergency_id,
        event_day=original.event_day, source=original.source, comparison_ids=list(original.comparison_ids),
        until=original.until, event_en=original.event_en, event_zh=original.event_zh,
        requested_by=audit.acting_user(user), rerun_of=original)
    return _queue(comparison, user=user)
