"""The alerts JSON API: alerts sent to me, alerts in my area (publishers), acknowledging."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema

from civicgrid.accounts.roles import scope_for
from civicgrid.alerts import selectors, services
from civicgrid.core.apischema import id_path, responses

router = Router(tags=["alerts"])


class AlertOut(Schema):
    id: int
    identifier: str
    area_id: int
    group: str
    status: str
    msg_type: str
    category: str
    severity: str
    urgency: str
    headline_en: str
    headline_zh: str
    sent_at: datetime
    n_households_targeted: int
    n_people_targeted: int
    n_acknowledged: int


@router.get("/mine", response=responses(list[AlertOut]))
def mine(request: HttpRequest) -> object:
    return selectors.alerts_for_user(user=request.user, scope=scope_for(request.user))[:100]


@router.get("/area", response=responses(list[AlertOut]))
def in_area(request: HttpRequest) -> object:
    return selectors.alert_list(scope=scope_for(request.user))[:100]


@router.post("/{alert_id}/ack", response=responses(AlertOut))
def acknowledge(request: HttpRequest, alert_id: int = id_path()) -> object:
    scope = scope_for(request.user)
    alert = selectors.alert_get(user=request.user, scope=scope, alert_id=alert_id)
    services.alert_acknowledge(user=request.user, scope=scope_for(request.user), alert=alert)
    alert.refresh_from_db()
    return alert
