"""Home isolation: who is isolated and until when, the daily check-in (by the resident, or by the grid
member for them), missed check-ins flagged to the grid member, needs passed on to relief."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from civicgrid.alerts.services import notice_send
from civicgrid.core import audit
from civicgrid.core.bulk import chunks
from civicgrid.core.errors import Forbidden, Invalid
from civicgrid.core.locking import locked, serialised
from civicgrid.core.scoping import PLATFORM, Scope, check_in_scope, require
from civicgrid.emergency.events import EmergencyEvent
from civicgrid.emergency.models import CheckIn, Emergency, Isolation, MissedCheckIn
from civicgrid.emergency.models.isolation import SYMPTOMS
from civicgrid.emergency.needs import file_need
from civicgrid.emergency.services.common import grid_member_users
from civicgrid.registry.models import Resident

MAX_DAYS = 60
TEMPERATURE_RANGE = (Decimal("34.0"), Decimal("43.0"))
FEVER = Decimal("37.3")
# isolations whose days are read and flagged in one transaction (and one ``id IN`` list, within SQLite's limit)
MISSED_BATCH = 500


@transaction.atomic
def isolation_start(*, user: Any, scope: Scope, resident: Resident, start_date: date, end_date: date, reason: str = "",
                    emergency: Emergency | None = None) -> Isolation:
    require(scope, "emergency")
    check_in_scope(scope, resident)
    if end_date < start_date:
        raise Invalid({"end_date": _("The end must not be before the start.")})
    if (end_date - start_date).days + 1 > MAX_DAYS:
        raise Invalid({"end_date": _("An isolation lasts at most %(n)d days.") % {"n": MAX_DAYS}})
    overlapping = Isolation.objects.filter(resident=resident, start_date__lte=end_date, end_date__gte=start_date)
    if overlapping.exists():
        raise Invalid({"resident": _("%(name)s is already isolated in these days.") % {"name": resident.name}})
    household = resident.household
    isolation = Isolation.objects.create(resident=resident, household=household, place_path=household.place_path,
                                         start_date=start_date, end_date=end_date, reason=reason.strip(),
                                         emergency=emergency, created_by=user)
    audit.record(user=user, event=EmergencyEvent.ISOLATION_STARTED, instance=isolation, new=audit.snapshot(isolation))
    return isolation


@transaction.atomic
def isolation_end(*, user: Any, scope: Scope, isolation: Isolation, day: date) -> Isolation:
    """End an isolation early (on ``day``, the last isolated day)."""
    require(scope, "emergency")
    check_in_scope(scope, isolation)
    if not isolation.start_date <= day <= isolation.end_date:
        raise Invalid({"day": _("The day must lie within the isolation.")})
    return audit.update_fields(user=user, event=EmergencyEvent.ISOLATION_ENDED, instance=isolation, changes={"end_date": day})  # type: ignore[return-value]


def _may_check_in(scope: Any, isolation: Isolation) -> None:
    """The resident's own household, or anyone whose area holds it and who works on emergencies."""
    check_in_scope(scope, isolation)
    if not (scope.may("emergency") or isolation.household_id in scope.household_ids):
        raise Forbidden(_("Only the resident's household or their grid member records check-ins."))


def _clean_temperature(value: Any) -> Decimal:
    try:
        temperature = Decimal(str(value)).quantize(Decimal("0.1"))
    except (InvalidOperation, ValueError):
        raise Invalid({"temperature": _("Give the temperature in °C, e.g. 36.6.")}) from None
    low, high = TEMPERATURE_RANGE
    if not low <= temperature <= high:
        raise Invalid({"temperature": _("%(t)s °C is not a body temperature (34.0 to 43.0).") % {
            "t": temperature}})
    return temperature


@serialised
def checkin_record(*, user: Any, scope: Scope, isolation: Isolation, day: date, temperature: Any, symptoms: list[str] | None = None,
                   needs: str = "", item: str = "", quantity: int = 1, now: datetime | None = None) -> CheckIn:
    """Record (or correct) the day's check-in. Needs are filed (relief if present, else a case); a fever
    or symptoms are told to the grid member at once."""
    require(scope, "residents")
    _may_check_in(scope, isolation)
    now = now or timezone.now()
    today = timezone.localdate(now)
    if not isolation.start_date <= day <= isolation.end_date:
        raise Invalid({"day": _("The day must lie within the isolation (%(a)s to %(b)s).") % {
            "a": isolation.start_date, "b": isolation.end_date}})
    if day > today:
        raise Invalid({"day": _("A check-in cannot be for a future day.")})
    symptoms = sorted(set(symptoms or []))
    unknown = set(symptoms) - set(SYMPTOMS)
    if unknown:
        raise Invalid({"symptoms": _("Unknown symptoms: %(s)s") % {"s": ", ".join(sorted(unknown))}})
    # the isolation first, as the missed check-ins' job locks it (isolation_flag_missed): a day it flagged while
    # this check-in was uncommitted would escape the resolving below and stay "missed" though checked in
    locked(Isolation.objects.filter(pk=isolation.pk)).first()
    checkin = locked(CheckIn.objects.all()).filter(isolation=isolation, day=day).first()
    before = audit.snapshot(checkin) if checkin else None
    checkin = checkin or CheckIn(isolation=isolation, day=day)
    checkin.temperature, checkin.symptoms, checkin.needs = _clean_temperature(temperature), symptoms, needs.strip()
    checkin.by, checkin.at = user, now
    checkin.for_resident = isolation.household_id not in scope.household_ids
    if checkin.needs and not checkin.filed:
        checkin.filed = file_need(user=user, scope=scope, household=isolation.household, description=checkin.needs,
                                  source=f"isolation:{isolation.pk}:{day.isoformat()}", item=item,
                                  quantity=quantity)
    checkin.save()
    if before is None:
        audit.record(user=user, event=EmergencyEvent.CHECKIN_RECORDED, instance=checkin, new=audit.snapshot(checkin))
    else:
        old, new = audit.changed(before, audit.snapshot(checkin))
        audit.record(user=user, event=EmergencyEvent.CHECKIN_RECORDED, instance=checkin, old=old, new=new)
    MissedCheckIn.objects.filter(isolation=isolation, day=day, resolved_at__isnull=True).update(resolved_at=now)
    if checkin.temperature >= FEVER or symptoms:
        name, temp = isolation.resident.name, checkin.temperature
        case_id = _fever_case(isolation, checkin)
        notice_send(users=grid_member_users({isolation.household.grid_id}),
                    title=lambda: _("%(name)s reports %(t)s °C or symptoms") % {"name": name, "t": temp},
                    body=lambda: _("A case was opened (no. %(case)s): call the household now.") % {"case": case_id},
                    link=reverse("emergency:isolation", args=[isolation.pk]),
                    source=f"isolation:{isolation.pk}:{day.isoformat()}:fever")
    return checkin


FEVER_CATEGORY = "epidemic_prevention"


def _fever_case(isolation: Isolation, checkin: CheckIn) -> int:
    """Open a grid case for a fever or a listed symptom at once, as the platform (the resident checking
    in may not file cases elsewhere); one per isolated day, whatever corrections follow."""
    from civicgrid.cases.models import Case, CaseCategory
    from civicgrid.cases.services import case_report

    source = f"isolation:{isolation.pk}:{checkin.day.isoformat()}:fever"  # (a need filed that day has no suffix)
    existing = Case.objects.filter(source=source).values_list("pk", flat=True).first()
    if existing is not None:
        return int(existing)
    category = CaseCategory.objects.filter(code=FEVER_CATEGORY).first() or CaseCategory.objects.get(code="other")
    with translation.override(settings.LANGUAGE_CODE):  # a case is read by staff in the site's language
        symptoms = "、".join(str(SYMPTOMS[s]) for s in checkin.symptoms) or _("none")
        description = _("Home isolation check-in of %(name)s on %(day)s: %(t)s °C; symptoms: %(symptoms)s.") % {
            "name": isolation.resident.name, "day": checkin.day.isoformat(), "t": checkin.temperature,
            "symptoms": symptoms}
        label = _("isolation check-in")
    case = case_report(user=None, scope=PLATFORM, category=category, description=description,
                       household=isolation.household, source=source, reporter_label=label)
    return int(case.pk)


def isolation_flag_missed(*, today: date, now: datetime | None = None) -> list[MissedCheckIn]:
    """Flag every isolated day before ``today`` without a check-in (each once) and tell the grid member serving
    the household. Run by the periodic job ``emergency_flag_missed`` (every minute on the job queue).

    In a district-wide lockdown tens of thousands of households are isolated at once and nearly every day has its
    check-in. The days already settled (a check-in or a flag) are therefore counted in the database first, per
    isolation (:func:`_unsettled`); only the isolations with a day unsettled are read, and written under the lock,
    :data:`MISSED_BATCH` a transaction. Reading every isolation with its check-ins took 55-60 s a run at 100,000
    isolations, holding SQLite's write lock all the while (bench/bench_isolation_missed.py)."""
    now = now or timezone.now()
    unsettled = _unsettled(today)
    flagged: list[MissedCheckIn] = []
    audience: dict[int | None, list[Any]] = {}  # the grid members of each grid, read once a run
    for batch in chunks(unsettled, MISSED_BATCH):
        flagged += _flag_batch(batch, today=today, now=now, audience=audience)
    return flagged


def _in_window(today: date) -> Any:
    """The isolations whose days may still be flagged: begun before ``today``, ended at most MAX_DAYS ago."""
    return Isolation.objects.filter(start_date__lt=today, end_date__gte=today - timedelta(days=MAX_DAYS))


def _unsettled(today: date) -> list[int]:
    """Ids of the isolations (ascending) with a day before ``today`` that has neither a check-in nor a flag.

    One grouped count in the database, of the isolated days before today that have a check-in or a flag (their
    union, so a day flagged and then checked in late counts once), set against each isolation's days so far."""
    isolations = list(_in_window(today).order_by().values_list("id", "start_date", "end_date"))
    if not isolations:
        return []
    days_of = {pk: (min(end, today - timedelta(days=1)) - start).days + 1 for pk, start, end in isolations}

    def settled(model: Any) -> Any:
        return model.objects.filter(
            isolation__start_date__lt=today, isolation__end_date__gte=today - timedelta(days=MAX_DAYS),
            day__gte=F("isolation__start_date"), day__lte=F("isolation__end_date"), day__lt=today,
        ).values_list("isolation_id", "day").order_by()  # a part of a UNION has no order

    sql, params = settled(CheckIn).union(settled(MissedCheckIn)).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT isolation_id, COUNT(*) FROM ({sql}) settled GROUP BY isolation_id", params)
        counted = dict(cursor.fetchall())
    return sorted(pk for pk, days in days_of.items() if counted.get(pk, 0) < days)


@serialised
def _flag_batch(ids: list[int], *, today: date, now: datetime, audience: dict[int | None, list[Any]]
                ) -> list[MissedCheckIn]:
    """Flag the unsettled days of these isolations, read again under the lock (a run beside this one, or a late
    check-in, may have settled some), each with its audit row; one notice per isolation to its grid members."""
    isolations = locked(_in_window(today).filter(pk__in=ids)).order_by("id") \
        .select_related("resident", "household").prefetch_related("checkins", "missed")
    flagged: list[MissedCheckIn] = []
    with audit.deferred():
        for isolation in isolations:
            done = {c.day for c in isolation.checkins.all()} | {m.day for m in isolation.missed.all()}
            last = min(isolation.end_date, today - timedelta(days=1))
            days = [isolation.start_date + timedelta(days=i) for i in range((last - isolation.start_date).days + 1)]
            missed = [MissedCheckIn(isolation=isolation, day=d, flagged_at=now) for d in days if d not in done]
            if not missed:
                continue
            MissedCheckIn.objects.bulk_create(missed)
            flagged += missed
            for m in missed:
                audit.record(user=None, event=EmergencyEvent.CHECKIN_MISSED, instance=m, new=audit.snapshot(m))
            grid = isolation.household.grid_id
            if grid not in audience:
                audience[grid] = list(grid_member_users({grid}))
            name, day = isolation.resident.name, missed[-1].day
            notice_send(users=audience[grid],
                        title=lambda name=name, day=day: _("Missed check-in: %(name)s on %(day)s") % {  # type: ignore[misc]
                            "name": name, "day": day},
                        body=lambda: _("Call or visit the household today."),
                        link=reverse("emergency:isolation", args=[isolation.pk]),
                        source=f"missed:{isolation.pk}:{day.isoformat()}")
    return flagged
