"""Alert pages: publish, list with reach, detail with clarifications, the notices page, and the
public CAP 1.2 documents and Atom feed."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from civicgrid.alerts import cap, selectors, services
from civicgrid.alerts.forms import AlertForm, ClarificationForm
from civicgrid.core.errors import FORM_ERRORS
from civicgrid.core.paging import paginate
from civicgrid.core.scoping import require
from civicgrid.core.views import form_errors, scoped_view


@scoped_view
def alert_list(request: HttpRequest, scope: Any) -> HttpResponse:
    if not scope.may("alerts_publish"):
        return redirect("alerts:notices")
    page = paginate(selectors.alert_list(scope=scope), 30, request.GET.get("page"))
    return render(request, "alerts/list.html", {"page": page})


@scoped_view
@require_http_methods(["GET", "POST"])
def alert_new(request: HttpRequest, scope: Any) -> HttpResponse:
    require(scope, "alerts_publish")
    form = AlertForm(request.POST or None, scope=scope)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        hours = data.pop("expires_in_hours")
        channels = data.pop("channels")
        try:
            alert = services.alert_publish(
                user=request.user, scope=scope, channels=channels,
                expires_at=timezone.now() + timedelta(hours=hours) if hours else None, **data)
        except FORM_ERRORS as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("Alert published; %(n)d messages queued.") % {
                "n": alert.deliveries.count()})
            return redirect("alerts:detail", alert_id=alert.pk)
    return render(request, "alerts/form.html", {"form": form, "title": _("Publish an alert")})


@scoped_view
def alert_detail(request: HttpRequest, scope: Any, alert_id: int) -> HttpResponse:
    alert = selectors.alert_get(user=request.user, scope=scope, alert_id=alert_id)
    publisher = scope.may("alerts_publish")
    return render(request, "alerts/detail.html", {
        "alert": alert, "clarifications": alert.clarifications.all(),
        "reach": selectors.alert_reach(alert=alert) if publisher else None,
        "received": selectors.alerts_for_user(user=request.user, scope=scope).filter(pk=alert.pk).exists(),
        "acknowledged": bool(selectors.acknowledged_ids(user=request.user, alert_ids=[alert.pk])),
        "form": ClarificationForm() if publisher else None,
    })


@scoped_view
@require_POST
def alert_acknowledge(request: HttpRequest, scope: Any, alert_id: int) -> HttpResponse:
    alert = selectors.alert_get(user=request.user, scope=scope, alert_id=alert_id)
    try:
        services.alert_acknowledge(user=request.user, scope=scope, alert=alert)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Thank you: your acknowledgement is recorded."))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("alerts:detail", args=[alert.pk])
    return redirect(target)


@scoped_view
@require_POST
def alert_clarify(request: HttpRequest, scope: Any, alert_id: int) -> HttpResponse:
    require(scope, "alerts_publish")
    alert = selectors.alert_get(user=request.user, scope=scope, alert_id=alert_id)
    form = ClarificationForm(request.POST)
    if form.is_valid():
        services.clarification_add(user=request.user, scope=scope, alert=alert, **form.cleaned_data)
        messages.success(request, _("Clarification added."))
        return redirect("alerts:detail", alert_id=alert.pk)
    return render(request, "alerts/detail.html", {
        "alert": alert, "clarifications": alert.clarifications.all(), "reach": selectors.alert_reach(alert=alert),
        "received": False, "acknowledged": False, "form": form}, status=400)


@scoped_view
def notices(request: HttpRequest, scope: Any) -> HttpResponse:
    alerts = list(selectors.alerts_for_user(user=request.user, scope=scope)[:50])
    acked = selectors.acknowledged_ids(user=request.user, alert_ids=[a.pk for a in alerts])
    personal = list(selectors.notices_for(user=request.user)[:50])
    return render(request, "alerts/notices.html", {
        "alerts": [(a, a.pk in acked) for a in alerts], "personal": personal,
        "n_unread": sum(1 for n in personal if n.read_at is None)})


@scoped_view
@require_POST
def notices_read(request: HttpRequest, scope: Any) -> HttpResponse:
    """Mark the notices shown as read (a POST: reading a page never writes)."""
    ids = [int(i) for i in request.POST.getlist("notice") if i.isdigit()]
    services.notice_mark_read(user=request.user, notice_ids=ids)
    return redirect("alerts:notices")


@require_GET
def alert_cap(request: HttpRequest, alert_id: int) -> HttpResponse:
    """The CAP 1.2 document: public for public alerts; responders-only alerts need a login in scope."""
    try:
        alert = selectors.public_alert_get(alert_id=alert_id)
    except ObjectDoesNotExist:
        alert = _restricted_alert(request, alert_id)
    return HttpResponse(cap.cap_xml(alert), content_type=f"{cap.CAP_MIME}; charset=utf-8")


def _restricted_alert(request: HttpRequest, alert_id: int) -> Any:
    from civicgrid.accounts.roles import scope_for

    scope = scope_for(request.user)
    if scope.role:
        try:
            return selectors.alert_get(user=request.user, scope=scope, alert_id=alert_id)
        except (ObjectDoesNotExist, PermissionDenied):
            pass
    raise Http404(_("Not found in your area."))


@require_GET
def alert_feed(request: HttpRequest) -> HttpResponse:
    """Atom feed of public alerts, each entry carrying its CAP message (``?area=CODE`` narrows it)."""
    area = request.GET.get("area", "")
    try:
        alerts = list(selectors.public_alerts(area_code=area))
    except ObjectDoesNotExist:
        raise Http404(_("No such area.")) from None
    self_url = request.build_absolute_uri()
    cap_url = request.build_absolute_uri(reverse("alerts:cap", args=[0])).replace("/0/", "/{id}/")
    body = cap.atom_feed(alerts, feed_id=f"urn:civicgrid:alerts:{area or 'all'}",
                         title="civicgrid alerts" + (f" {area}" if area else ""), self_url=self_url,
                         alert_url=cap_url, updated=alerts[0].sent_at if alerts else timezone.now())
    return HttpResponse(body, content_type="application/atom+xml; charset=utf-8")
