"""Log-in lockout, kept in the database so that it holds across worker processes.

After ``CIVICGRID_LOGIN_MAX_FAILURES_PER_USER`` failed log-ins for one user name (since its last
successful log-in) within ``CIVICGRID_LOGIN_WINDOW_MINUTES``, or ``CIVICGRID_LOGIN_MAX_FAILURES_PER_IP``
from one client address, further attempts are refused without checking the password until the window
has passed since the last failure. Every attempt (succeeded, failed, refused) is stored and audited.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone

from civicgrid.accounts.events import AccountEvent
from civicgrid.accounts.models import LoginAttempt, Role
from civicgrid.accounts.places import role_place_path
from civicgrid.core import audit


def normalise(username: str) -> str:
    return username.strip().lower()[:150]


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address: REMOTE_ADDR, or the header a trusted reverse proxy sets
    (``CIVICGRID_CLIENT_IP_HEADER``); None when it is not an IP address."""
    if request is None:
        return None
    header = getattr(settings, "CIVICGRID_CLIENT_IP_HEADER", "")
    raw = str(request.META.get(header) or request.META.get("REMOTE_ADDR") or "") if header else \
        str(request.META.get("REMOTE_ADDR") or "")
    raw = raw.split(",")[0].strip()
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return None


def _window() -> timedelta:
    return timedelta(minutes=int(settings.CIVICGRID_LOGIN_WINDOW_MINUTES))


def _remaining(failures: Any, limit: int, now: datetime) -> float:
    stats = failures.aggregate(latest=Max("at"))
    if failures.count() < limit or stats["latest"] is None:
        return 0.0
    return max(0.0, (stats["latest"] + _window() - now).total_seconds())


def locked_for(username: str, ip: str | None, *, now: datetime | None = None) -> float:
    """Seconds until this user name and address may try again (0: they may now)."""
    now = now or timezone.now()
    since = now - _window()
    name = normalise(username)
    last_ok = LoginAttempt.objects.filter(username=name, succeeded=True, at__gte=since).aggregate(t=Max("at"))["t"]
    by_name = LoginAttempt.objects.filter(username=name, succeeded=False, refused=False,
                                          at__gte=max(since, last_ok) if last_ok else since)
    wait = _remaining(by_name, int(settings.CIVICGRID_LOGIN_MAX_FAILURES_PER_USER), now)
    if ip:
        by_ip = LoginAttempt.objects.filter(ip=ip, succeeded=False, refused=False, at__gte=since)
        wait = max(wait, _remaining(by_ip, int(settings.CIVICGRID_LOGIN_MAX_FAILURES_PER_IP), now))
    return wait


@transaction.atomic
def attempt_record(*, username: str, ip: str | None, succeeded: bool, refused: bool = False,
                   user: Any = None) -> LoginAttempt:
    """Store one attempt and its audit row (the acting user is the account only when it succeeded)."""
    name = normalise(username)
    account = user if user is not None else get_user_model().objects.filter(username__iexact=name).first()
    attempt = LoginAttempt.objects.create(username=name, ip=ip, user=account, succeeded=succeeded, refused=refused)
    event = (AccountEvent.LOGIN_REFUSED if refused else AccountEvent.LOGIN_SUCCEEDED if succeeded
             else AccountEvent.LOGIN_FAILED)
    role = Role.objects.filter(user_id=getattr(account, "pk", None) or 0).first()
    audit.record(user=account if succeeded else None, event=event, instance=attempt,
                 new={"username": name, "ip": ip, "succeeded": succeeded, "refused": refused},
                 place_path=role_place_path(role) if role is not None else "")
    return attempt


def attempts_prune(*, now: datetime | None = None) -> int:
    """Delete attempts older than ``CIVICGRID_LOGIN_KEEP_DAYS`` (never inside the lockout window);
    each one stays in the audit log. Returns how many were deleted."""
    now = now or timezone.now()
    keep = max(timedelta(days=int(getattr(settings, "CIVICGRID_LOGIN_KEEP_DAYS", 30))), _window())
    deleted, _ = LoginAttempt.objects.filter(at__lt=now - keep).delete()
    return deleted
