"""Volunteer pages. Thin: scope from the role, data from selectors, writes through services; a refused
act shows its reason as a message on the page it came from."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from civicgrid.core.errors import FORM_ERRORS, Invalid
from civicgrid.core.limits import int_param
from civicgrid.core.paging import paginate
from civicgrid.core.scoping import Scope, require, scoped
from civicgrid.core.templatetags.doorplate import qr_svg
from civicgrid.core.views import scoped_view
from civicgrid.registry.models import Person, Place
from civicgrid.volunteers import selectors, services
from civicgrid.volunteers.models import (
    SKILLS,
    WEEKDAYS,
    CareVisit,
    Course,
    HelperAssignment,
    HoursEntry,
    TimeTransfer,
    Volunteer,
)


def _act(request: HttpRequest, action: Callable[[], object], *, success: str) -> bool:
    try:
        action()
    except (*FORM_ERRORS, PermissionDenied) as error:
        text = getattr(error, "message", None) if isinstance(error, PermissionDenied) else " ".join(error.messages)
        messages.error(request, str(text or _("Your role may not do this.")))
        return False
    messages.success(request, success)
    return True


def _day(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid({field: _("Give a date as YYYY-MM-DD.")}) from None


def _days_text(volunteer: Volunteer) -> str:
    return " ".join(str(WEEKDAYS[i]) for i in range(7) if volunteer.days >> i & 1)


# --- home and profiles -----------------------------------------------------------------------------
@scoped_view
def home(request: HttpRequest, scope: Scope) -> HttpResponse:
    require(scope, "volunteers")
    me = selectors.volunteer_of(request.user)
    context: dict[str, Any] = {"me": me}
    if me is not None:
        context.update(total=selectors.hours_total(me), mine=selectors.visits_mine(user=request.user),
                       claimable=selectors.visits_claimable(scope=scope, user=request.user)[:50])
    if scope.role != "volunteer":
        context["page"] = paginate(selectors.volunteer_list(scope=scope), 50, request.GET.get("page"))
    return render(request, "volunteers/home.html", context)


@scoped_view
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest, scope: Scope) -> HttpResponse:
    require(scope, "volunteers_manage")
    if request.method == "POST":
        def save() -> Volunteer:
            days = sum(1 << int(d) for d in request.POST.getlist("days") if d in "0123456")
            return services.volunteer_save(
                user=request.user, scope=scope, person_id=int_param(request.POST.get("person", ""), "person"),
                home_id=int_param(request.POST.get("home", ""), "home"), skills=request.POST.getlist("skills"),
                days=days or 127, from_hour=int_param(request.POST.get("from_hour", "8"), "from_hour", minimum=0),
                to_hour=int_param(request.POST.get("to_hour", "20"), "to_hour"))
        if _act(request, save, success=_("The volunteer's profile is saved.")):
            return redirect("volunteers:home")
    people = scoped(Person.objects.filter(volunteer__isnull=True), scope).order_by("code")[:300]
    homes = scoped(Place.objects.filter(level__in=["grid", "building"]), scope).order_by("path")[:500]
    return render(request, "volunteers/register.html", {"people": people, "homes": homes, "skills": SKILLS.items(),
                                                         "weekdays": list(enumerate(WEEKDAYS))})


@scoped_view
def profile(request: HttpRequest, scope: Scope, volunteer_id: int) -> HttpResponse:
    volunteer = selectors.volunteer_get(scope=scope, user=request.user, volunteer_id=volunteer_id)
    return render(request, "volunteers/profile.html", {
        "v": volunteer, "days": _days_text(volunteer), "skills": [SKILLS.get(s, s) for s in volunteer.skills],
        "teams": volunteer.person.posts.select_related("actor"), "certificates": volunteer.certificates.select_related(
            "course"), "today": timezone.localdate(), "total": selectors.hours_total(volunteer),
        "by_source": selectors.hours_by_source(volunteer), "courses": Course.objects.all(),
        "manage": scope.may("volunteers_manage") and scope.role != "volunteer"})


@scoped_view
@require_POST
def certificate_grant(request: HttpRequest, scope: Scope, volunteer_id: int) -> HttpResponse:
    require(scope, "volunteers_manage")
    selectors.volunteer_get(scope=scope, user=request.user, volunteer_id=volunteer_id)  # 404 before bad input
    _act(request, lambda: services.certificate_grant(
        user=request.user, scope=scope, volunteer_id=volunteer_id,
        course_id=int_param(request.POST.get("course", ""), "course"),
        attended_on=_day(request.POST.get("attended_on", "") or timezone.localdate().isoformat(), "attended_on")),
        success=_("The course is recorded."))
    return redirect("volunteers:profile", volunteer_id=volunteer_id)


@scoped_view
def certificate(request: HttpRequest, scope: Scope, volunteer_id: int) -> HttpResponse:
    """A printable statement of the volunteer's counted hours, with a QR code of this page to verify it."""
    volunteer = selectors.volunteer_get(scope=scope, user=request.user, volunteer_id=volunteer_id)
    url = request.build_absolute_uri(reverse("volunteers:certificate", args=[volunteer.pk]))
    return render(request, "volunteers/certificate.html", {
        "v": volunteer, "total": selectors.hours_total(volunteer), "by_source": selectors.hours_by_source(volunteer),
        "today": timezone.localdate(), "qr": qr_svg(url), "teams": volunteer.person.posts.select_related("actor")})


# --- hours -----------------------------------------------------------------------------------------
@scoped_view
@require_http_methods(["GET", "POST"])
def hours(request: HttpRequest, scope: Scope) -> HttpResponse:
    require(scope, "volunteers")
    me = selectors.volunteer_of(request.user)
    if request.method == "POST":
        _act(request, lambda: services.hours_enter(
            user=request.user, scope=scope,
            volunteer_id=int_param(request.POST.get("volunteer", "") or (me.pk if me else ""), "volunteer"),
            hours=request.POST.get("hours", ""), on=_day(request.POST.get("on", ""), "on"),
            note=request.POST.get("note", "")), success=_("The hours are entered and wait for a second person's approval."))
        return redirect("volunteers:hours")
    area = scope.role != "volunteer"
    entries = selectors.hours_list(scope=scope, volunteer=None if area else me) if (area or me) else \
        HoursEntry.objects.none()
    page = paginate(entries, 50, request.GET.get("page"))
    rows = [(e, selectors.entry_state(e)) for e in page]
    pending = selectors.hours_pending(scope=scope)[:50] if scope.may("volunteers_manage") and area else []
    volunteers = selectors.volunteer_list(scope=scope)[:300] if area else []
    return render(request, "volunteers/hours.html", {"me": me, "page": page, "rows": rows, "pending": pending,
                                                      "volunteers": volunteers, "today": timezone.localdate(),
                                                      "total": selectors.hours_total(me) if me else None})


@scoped_view
@require_POST
def hours_decide(request: HttpRequest, scope: Scope, entry_id: int) -> HttpResponse:
    require(scope, "volunteers_manage")
    approved = request.POST.get("approved") == "1"
    _act(request, lambda: services.hours_decide(user=request.user, scope=scope, entry_id=entry_id, approved=approved,
                                                reason=request.POST.get("reason", "")),
         success=_("Approved.") if approved else _("Rejected."))
    return redirect("volunteers:hours")


# --- care visits -----------------------------------------------------------------------------------
@scoped_view
@require_http_methods(["GET", "POST"])
def visits(request: HttpRequest, scope: Scope) -> HttpResponse:
    require(scope, "volunteers")
    if request.method == "POST":
        require(scope, "volunteers_manage")
        _act(request, lambda: services.care_visit_open(
            user=request.user, scope=scope, resident_id=int_param(request.POST.get("resident", ""), "resident"),
            due_on=_day(request.POST.get("due_on", ""), "due_on")), success=_("The care visit is open for volunteers."))
        return redirect("volunteers:visits")
    status = request.GET.get("status", "")
    status = status if status in CareVisit.Status.values else ""
    page = paginate(selectors.visits_area(scope=scope, status=status), 50, request.GET.get("page"))
    manage = scope.may("volunteers_manage") and scope.role != "volunteer"
    residents = scoped(selectors.vulnerable_residents(), scope).order_by("household__code", "id")[:300] if manage else []
    return render(request, "volunteers/visits.html", {"page": page, "status": status, "residents": residents,
                                                       "statuses": CareVisit.Status.choices,
                                                       "mine": selectors.visits_mine(user=request.user),
                                                       "today": timezone.localdate()})


@scoped_view
def visit(request: HttpRequest, scope: Scope, visit_id: int) -> HttpResponse:
    v = selectors.visit_get(scope=scope, user=request.user, visit_id=visit_id)
    me = services.person_of(request.user)
    manage = scope.may("volunteers_manage") and scope.role != "volunteer"
    return render(request, "volunteers/visit.html", {
        "v": v, "mine": me is not None and v.visitor_id == me.pk and v.status != CareVisit.Status.DONE,
        "claimable": v.status == CareVisit.Status.OPEN and scope.role == "volunteer",
        "outcomes": CareVisit.Outcome.choices, "minutes": (15, 30, 45, 60, 90, 120),
        "candidates": selectors.candidates(scope=scope, visit=v) if manage and v.status == CareVisit.Status.OPEN else []})


@scoped_view
@require_POST
def visit_claim(request: HttpRequest, scope: Scope, visit_id: int) -> HttpResponse:
    require(scope, "volunteers")
    ok = _act(request, lambda: services.care_visit_claim(user=request.user, scope=scope, visit_id=visit_id),
              success=_("The visit is yours."))
    return redirect("volunteers:visit", visit_id=visit_id) if ok else redirect("volunteers:home")


@scoped_view
@require_POST
def visit_record(request: HttpRequest, scope: Scope, visit_id: int) -> HttpResponse:
    require(scope, "volunteers")
    minutes = request.POST.get("minutes", "")
    ok = _act(request, lambda: services.care_visit_record(  # the service looks the visit up before the input
        user=request.user, scope=scope, visit_id=visit_id, outcome=request.POST.get("outcome", ""),
        minutes=int(minutes) if minutes.isascii() and minutes.isdigit() and len(minutes) < 6 else minutes,
        note=request.POST.get("note", "")),
        success=_("The visit is recorded; thank you."))
    return redirect("volunteers:hours") if ok else redirect("volunteers:visit", visit_id=visit_id)


# --- paired help -----------------------------------------------------------------------------------
@scoped_view
@require_http_methods(["GET", "POST"])
def helpers(request: HttpRequest, scope: Scope) -> HttpResponse:
    require(scope, "volunteers_manage")
    if request.method == "POST":
        _act(request, lambda: services.helper_assign(
            user=request.user, scope=scope, resident_id=int_param(request.POST.get("resident", ""), "resident"),
            helper_person_id=int_param(request.POST.get("helper", ""), "helper"), kind=request.POST.get("kind", ""),
            every_days=int_param(request.POST.get("every_days", "14"), "every_days")),
            success=_("The helper is assigned; the first visit is scheduled."))
        return redirect("volunteers:helpers")
    # paged: a district draws a row per grid (3,600 at 1M households: a second of the page, issue 15)
    rows = paginate(selectors.coverage(scope=scope), COVERAGE_PAGE, request.GET.get("page"))
    # volunteers and grid members of the area (a neighbour is registered as a volunteer first)
    helpers_ = scoped(Person.objects.filter(Q(volunteer__active=True) | Q(posts__role="grid_member")), scope) \
        .distinct().order_by("code")[:300]
    return render(request, "volunteers/helpers.html", {
        "rows": rows, "unpaired": selectors.unpaired(scope=scope)[:50],
        "assignments": selectors.assignments(scope=scope)[:100], "kinds": HelperAssignment.Kind.choices,
        "people": helpers_, "counted": selectors.coverage_as_of()})


COVERAGE_PAGE = 100  # grids a page of the helper coverage draws


# --- time bank -------------------------------------------------------------------------------------
@scoped_view
@require_http_methods(["GET", "POST"])
def timebank(request: HttpRequest, scope: Scope) -> HttpResponse:
    require(scope, "volunteers")
    if request.method == "POST":
        require(scope, "volunteers_manage")
        counterpart = request.POST.get("counterpart", "")
        _act(request, lambda: services.time_transfer(
            user=request.user, scope=scope, kind=request.POST.get("kind", ""),
            person_id=int_param(request.POST.get("person", ""), "person"),
            counterpart_id=int_param(counterpart, "counterpart") if counterpart else None,
            minutes=int_param(request.POST.get("minutes", ""), "minutes"), note=request.POST.get("note", "")),
            success=_("The credits are transferred."))
        return redirect("volunteers:timebank")
    accounts = selectors.accounts(scope=scope, user=request.user)
    manage = scope.may("volunteers_manage") and scope.role != "volunteer"
    people = scoped(Person.objects.filter(volunteer__isnull=False), scope).order_by("code")[:300] if manage else []
    return render(request, "volunteers/timebank.html", {
        "accounts": accounts[:200], "transfers": selectors.transfers(scope=scope, user=request.user)[:100],
        "kinds": TimeTransfer.Kind.choices, "manage": manage, "people": people})
