"""Council and covenant pages. Thin: scope from the role, data from selectors, writes through services.
Every button is a POST that runs one service and comes back to its page with the outcome as a message
(a refusal shows its reason); nothing writes on a GET, the check-in page included (scanning the QR code
opens it, its button checks in)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from civicgrid.cases.models import CaseCategory
from civicgrid.core.errors import FORM_ERRORS, Invalid, NotFound
from civicgrid.core.limits import int_param
from civicgrid.core.scoping import Scope, get_in_scope, require, scoped
from civicgrid.core.templatetags.doorplate import qr_svg
from civicgrid.core.views import scoped_view
from civicgrid.council import selectors, services
from civicgrid.council.checkin import checkin_code
from civicgrid.council.models import Body, CovenantVersion, Meeting, Vote
from civicgrid.registry.models import Place

MANAGE = "council_manage"
INVITATIONS_SHOWN = 300


def _act(request: HttpRequest, action: Callable[[], object], *, success: str) -> bool:
    try:
        action()
    except FORM_ERRORS as error:
        messages.error(request, " ".join(str(m) for m in error.messages))
        return False
    messages.success(request, success)
    return True


def _place(scope: Scope, value: str, field: str) -> Place:
    return get_in_scope(Place.objects.all(), scope, pk=int_param(value, field))


# --- meetings -------------------------------------------------------------------------------------
@scoped_view
def meetings(request: HttpRequest, scope: Scope) -> HttpResponse:
    require(scope, "council")
    if scope.role == "resident":
        return redirect("council:decisions")
    found = list(selectors.meeting_list(scope=scope)[:100])
    counts = selectors.attendance_counts([m.pk for m in found])
    rows = [(m, *counts.get(m.pk, (0, 0))) for m in found]
    return render(request, "council/meetings.html", {"rows": rows, "may_manage": scope.may(MANAGE)})


@scoped_view
@require_http_methods(["GET", "POST"])
def meeting_new(request: HttpRequest, scope: Scope) -> HttpResponse:
    require(scope, MANAGE)
    bodies = list(selectors.bodies(scope=scope))
    communities = list(scoped(Place.objects.filter(level="community"), scope).order_by("code"))
    data = request.POST
    if request.method == "POST":
        try:
            community = _place(scope, data.get("community", ""), "community")
            body = get_in_scope(Body.objects.select_related("actor__service_area"), scope,
                                pk=int_param(data.get("body", ""), "body"))
            starts = parse_datetime(data.get("starts_at", "")) or None
            if starts is None:
                raise Invalid({"starts_at": _("Give the date and time.")})
            if timezone.is_naive(starts):
                starts = timezone.make_aware(starts)
            meeting = services.meeting_create(
                user=request.user, scope=scope, community=community, body=body, title=data.get("title", ""),
                starts_at=starts, quorum=int_param(data.get("quorum", ""), "quorum", maximum=100_000),
                location=data.get("location", ""), agenda=data.get("agenda", "").splitlines())
        except FORM_ERRORS as error:
            messages.error(request, " ".join(str(m) for m in error.messages))
        else:
            messages.success(request, _("Meeting called."))
            return redirect("council:meeting", meeting.pk)
    return render(request, "council/meeting_new.html", {
        "bodies": bodies, "communities": communities, "data": data,
        "default_start": (timezone.localtime() + timedelta(days=7)).strftime("%Y-%m-%dT19:00")})


@scoped_view
def meeting_detail(request: HttpRequest, scope: Scope, meeting_id: int) -> HttpResponse:
    require(scope, "council")
    meeting = selectors.meeting_get(scope=scope, meeting_id=meeting_id)
    manager = scope.may(MANAGE)
    # a phone page: the first households listed (attended first), the counts say how many there are
    invitations = list(selectors.invitations(scope=scope, meeting=meeting).order_by(
        F("attended_at").desc(nulls_last=True), "household__code")[:INVITATIONS_SHOWN]) if manager else []
    present = selectors.present(meeting)
    context: dict[str, Any] = {
        "meeting": meeting, "agenda": meeting.agenda.all(), "manager": manager, "invitations": invitations,
        "invited": meeting.invitations.count(), "present": present, "quorum_met": present >= meeting.quorum,
        "polls": selectors.polls(scope=scope, meeting=meeting),
        "decisions": selectors.decisions(scope=scope, meeting=meeting),
        "mine": selectors.own_invitation(scope=scope, meeting=meeting), "choices": Vote.Choice.choices,
        "grids": Place.objects.filter(level="grid", path__startswith=meeting.place_path).order_by("code") if manager else [],
        "categories": CaseCategory.objects.filter(active=True).order_by("order", "code") if manager else [],
        "open": meeting.state == Meeting.State.PLANNED,
    }
    if manager:
        code = checkin_code(meeting_id=meeting.pk, nonce=meeting.checkin_nonce)
        url = request.build_absolute_uri(reverse("council:checkin", args=[code]))
        context.update(checkin_url=url, checkin_qr=qr_svg(url))
    return render(request, "council/meeting_detail.html", context)


def _meeting_post(view: Callable[[HttpRequest, Scope, Meeting], str]) -> Callable[..., HttpResponseBase]:
    @scoped_view
    @require_POST
    def wrapper(request: HttpRequest, scope: Scope, meeting_id: int) -> HttpResponse:
        require(scope, MANAGE)
        meeting = selectors.meeting_get(scope=scope, meeting_id=meeting_id)
        anchor = view(request, scope, meeting)
        return redirect(reverse("council:meeting", args=[meeting.pk]) + anchor)
    wrapper.__name__ = view.__name__
    return wrapper


@_meeting_post
def agenda_add(request: HttpRequest, scope: Scope, meeting: Meeting) -> str:
    _act(request, lambda: services.agenda_item_add(user=request.user, scope=scope, meeting=meeting,
                                                   title=request.POST.get("title", "")), success=_("Agenda item added."))
    return "#agenda"


@_meeting_post
def invite(request: HttpRequest, scope: Scope, meeting: Meeting) -> str:
    def run() -> None:
        target = request.POST.get("target", "")
        if target.isdigit():
            n = services.meeting_invite(user=request.user, scope=scope, meeting=meeting,
                                        place=_place(scope, target, "place"))
        else:
            n = services.meeting_invite(user=request.user, scope=scope, meeting=meeting, group=target)
        messages.info(request, _("%(n)d households invited.") % {"n": n})
    _act(request, run, success=_("Invitations saved."))
    return "#attendance"


@_meeting_post
def attend(request: HttpRequest, scope: Scope, meeting: Meeting) -> str:
    _act(request, lambda: services.attendance_mark(
        user=request.user, scope=scope, meeting=meeting,
        household_id=int_param(request.POST.get("household", ""), "household")), success=_("Marked present."))
    return "#attendance"


@_meeting_post
def minutes(request: HttpRequest, scope: Scope, meeting: Meeting) -> str:
    _act(request, lambda: services.minutes_save(user=request.user, scope=scope, meeting=meeting,
                                                minutes=request.POST.get("minutes", "")), success=_("Minutes saved."))
    return "#minutes"


@_meeting_post
def close(request: HttpRequest, scope: Scope, meeting: Meeting) -> str:
    _act(request, lambda: services.meeting_close(user=request.user, scope=scope, meeting=meeting),
         success=_("Meeting closed."))
    return ""


@_meeting_post
def poll_open(request: HttpRequest, scope: Scope, meeting: Meeting) -> str:
    _act(request, lambda: services.poll_open(user=request.user, scope=scope, meeting=meeting,
                                             question=request.POST.get("question", "")), success=_("Poll opened."))
    return "#polls"


@_meeting_post
def decide(request: HttpRequest, scope: Scope, meeting: Meeting) -> str:
    def run() -> None:
        poll_id = request.POST.get("poll", "")
        poll = selectors.poll_get(scope=scope, poll_id=int_param(poll_id, "poll")) if poll_id else None
        services.decision_record(user=request.user, scope=scope, meeting=meeting, poll=poll,
                                 title=request.POST.get("title", ""), text=request.POST.get("text", ""))
    _act(request, run, success=_("Decision recorded."))
    return "#decisions"


@scoped_view
@require_http_methods(["GET", "POST"])
def checkin(request: HttpRequest, scope: Scope, code: str) -> HttpResponse:
    """What the meeting's QR code opens: the meeting and a check-in button (the POST records it)."""
    require(scope, "council")
    from civicgrid.council.checkin import read_code

    meeting_id, nonce = read_code(code)
    meeting = selectors.meeting_get(scope=scope, meeting_id=meeting_id)
    if meeting.checkin_nonce != nonce:
        raise NotFound()
    if request.method == "POST" and _act(request, lambda: services.meeting_check_in(
            user=request.user, scope=scope, code=code), success=_("You are checked in. Welcome!")):
        return redirect("council:meeting", meeting.pk)
    return render(request, "council/checkin.html", {
        "meeting": meeting, "mine": selectors.own_invitation(scope=scope, meeting=meeting)})


@scoped_view
@require_POST
def vote(request: HttpRequest, scope: Scope, poll_id: int) -> HttpResponse:
    require(scope, "council")
    poll = selectors.poll_get(scope=scope, poll_id=poll_id)
    household = request.POST.get("household", "")
    _act(request, lambda: services.vote_cast(
        user=request.user, scope=scope, poll=poll, choice=request.POST.get("choice", ""),
        household_id=int_param(household, "household") if household else None), success=_("Vote recorded."))
    return redirect(reverse("council:meeting", args=[poll.meeting_id]) + "#polls")


@scoped_view
@require_POST
def poll_close(request: HttpRequest, scope: Scope, poll_id: int) -> HttpResponse:
    require(scope, MANAGE)
    poll = selectors.poll_get(scope=scope, poll_id=poll_id)
    _act(request, lambda: services.poll_close(user=request.user, scope=scope, poll=poll), success=_("Poll closed."))
    return redirect(reverse("council:meeting", args=[poll.meeting_id]) + "#polls")


# --- decisions ------------------------------------------------------------------------------------
@scoped_view
def decisions(request: HttpRequest, scope: Scope) -> HttpResponse:
    require(scope, "council")
    found = selectors.decisions(scope=scope, published_only=not scope.may(MANAGE))
    return render(request, "council/decisions.html", {
        "decisions": found[:200], "shares": selectors.sector_shares(found), "manager": scope.may(MANAGE)})


def _decision_post(view: Callable[[HttpRequest, Scope, Any], None]) -> Callable[..., HttpResponseBase]:
    @scoped_view
    @require_POST
    def wrapper(request: HttpRequest, scope: Scope, decision_id: int) -> HttpResponse:
        require(scope, MANAGE)
        decision = selectors.decision_get(scope=scope, decision_id=decision_id)
        view(request, scope, decision)
        return redirect(reverse("council:meeting", args=[decision.meeting_id]) + "#decisions")
    wrapper.__name__ = view.__name__
    return wrapper


@_decision_post
def publish(request: HttpRequest, scope: Scope, decision: Any) -> None:
    _act(request, lambda: services.decision_publish(user=request.user, scope=scope, decision=decision),
         success=_("Decision published to residents."))


@_decision_post
def decision_case(request: HttpRequest, scope: Scope, decision: Any) -> None:
    def run() -> None:
        category = CaseCategory.objects.filter(pk=int_param(request.POST.get("category", ""), "category"),
                                               active=True).first()
        if category is None:
            raise Invalid({"category": _("Choose a category.")})
        services.decision_case_open(user=request.user, scope=scope, decision=decision, category=category,
                                    place=_place(scope, request.POST.get("place", ""), "place"),
                                    description=request.POST.get("description", ""))
    _act(request, run, success=_("Case opened from the decision."))


# --- covenants ------------------------------------------------------------------------------------
@scoped_view
def covenants(request: HttpRequest, scope: Scope) -> HttpResponse:
    require(scope, "council")
    rows = [(c, selectors.in_force(c)) for c in selectors.covenant_list(scope=scope)[:50]]
    if len(rows) == 1 and scope.role == "resident":
        return redirect("council:covenant", rows[0][0].pk)
    return render(request, "council/covenants.html", {
        "rows": rows, "manager": scope.may(MANAGE),
        "communities": scoped(Place.objects.filter(level="community"), scope).order_by("code")})


@scoped_view
@require_POST
def covenant_new(request: HttpRequest, scope: Scope) -> HttpResponse:
    require(scope, MANAGE)
    created: list[Any] = []
    ok = _act(request, lambda: created.append(services.covenant_create(
        user=request.user, scope=scope, community=_place(scope, request.POST.get("community", ""), "community"),
        title=request.POST.get("title", ""), clauses=request.POST.get("clauses", "").splitlines())),
        success=_("Covenant draft started."))
    return redirect("council:covenant", created[0].pk) if ok else redirect("council:covenants")


@scoped_view
def covenant_detail(request: HttpRequest, scope: Scope, covenant_id: int) -> HttpResponse:
    require(scope, "council")
    covenant = selectors.covenant_get(scope=scope, covenant_id=covenant_id)
    current = selectors.in_force(covenant)
    return render(request, "council/covenant_detail.html", {
        "covenant": covenant, "current": current, "clauses": selectors.clauses(current) if current else [],
        "signed": selectors.signed_households(current) if current else 0,
        "mine": selectors.own_signature(scope=scope, version=current) if current else None,
        "versions": covenant.versions.all(), "manager": scope.may(MANAGE), "resident": scope.role == "resident",
        "has_draft": covenant.versions.filter(state=CovenantVersion.State.DRAFT).exists()})


@scoped_view
@require_POST
def version_draft(request: HttpRequest, scope: Scope, covenant_id: int) -> HttpResponse:
    require(scope, MANAGE)
    covenant = selectors.covenant_get(scope=scope, covenant_id=covenant_id)
    made: list[Any] = []
    if _act(request, lambda: made.append(services.version_draft(user=request.user, scope=scope, covenant=covenant)),
            success=_("New draft started from the version in force.")):
        return redirect("council:version", made[0].pk)
    return redirect("council:covenant", covenant.pk)


@scoped_view
def version_detail(request: HttpRequest, scope: Scope, version_id: int) -> HttpResponse:
    require(scope, "council")
    version = selectors.version_get(scope=scope, version_id=version_id)
    manager = scope.may(MANAGE)
    return render(request, "council/version_detail.html", {
        "version": version, "covenant": version.covenant, "clauses": selectors.clauses(version), "manager": manager,
        "draft": version.state == CovenantVersion.State.DRAFT,
        "adoptable": selectors.adoptable_decisions(scope=scope, covenant=version.covenant) if manager else []})


def _version_post(view: Callable[[HttpRequest, Scope, CovenantVersion], None], resource: str = MANAGE
                  ) -> Callable[..., HttpResponseBase]:
    @scoped_view
    @require_POST
    def wrapper(request: HttpRequest, scope: Scope, version_id: int) -> HttpResponse:
        require(scope, resource)
        version = selectors.version_get(scope=scope, version_id=version_id)
        view(request, scope, version)
        target = "council:covenant" if version.state != CovenantVersion.State.DRAFT or view.__name__ != "clause" \
            else "council:version"
        return redirect(target, version.covenant_id if target == "council:covenant" else version.pk)
    wrapper.__name__ = view.__name__
    return wrapper


def _clause(request: HttpRequest, scope: Scope, version: CovenantVersion) -> None:
    number = request.POST.get("number", "")
    _act(request, lambda: services.clause_save(
        user=request.user, scope=scope, version=version, text=request.POST.get("text", ""),
        number=int_param(number, "number") if number else None), success=_("Clause saved."))


def _adopt(request: HttpRequest, scope: Scope, version: CovenantVersion) -> None:
    def run() -> None:
        decision = selectors.decision_get(scope=scope, decision_id=int_param(request.POST.get("decision", ""),
                                                                              "decision"))
        services.version_adopt(user=request.user, scope=scope, version=version, decision=decision)
    _act(request, run, success=_("Version adopted: it is now in force."))


def _sign(request: HttpRequest, scope: Scope, version: CovenantVersion) -> None:
    household = request.POST.get("household", "")
    _act(request, lambda: services.covenant_sign(
        user=request.user, scope=scope, version=version,
        household_id=int_param(household, "household") if household else None), success=_("Signed. Thank you!"))


_clause.__name__, _adopt.__name__, _sign.__name__ = "clause", "adopt", "sign"
clause_save = _version_post(_clause)
version_adopt = _version_post(_adopt)
version_sign = _version_post(_sign, "council")


@scoped_view
@require_POST
def clause_comment(request: HttpRequest, scope: Scope, clause_id: int) -> HttpResponse:
    require(scope, "council")
    clause = selectors.clause_get(scope=scope, clause_id=clause_id)
    _act(request, lambda: services.clause_comment(user=request.user, scope=scope, clause=clause,
                                                  text=request.POST.get("text", "")), success=_("Comment added."))
    return redirect(reverse("council:version", args=[clause.version_id]) + f"#clause-{clause.number}")
