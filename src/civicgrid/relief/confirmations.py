"""A large round's confirmation as a background job: the request (this module, offered as
``services.round_confirmation_request``) and the job (:mod:`civicgrid.relief.jobs`).

A district round of a million requests takes about a minute to confirm, longer than a proxy or the web server
waits for a page; cut off, its transaction rolls back and the official does not know whether the round exists. So
a confirmation whose preview holds at least ``background_requests`` requests (``relief/conf.py``) is queued: the
request checks the selection as the confirmation itself does and stores it with the preview's policy, seed,
fingerprint and newest need (needs filed since wait for the next round); the job confirms exactly that
(:func:`civicgrid.relief.roundconfirm.round_confirm`) or is refused when the needs the preview read or the stock
changed since, or a life-critical need was filed since."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext as _

from civicgrid.core import audit
from civicgrid.core.errors import Conflict, Invalid
from civicgrid.core.limits import whole_number
from civicgrid.core.locking import serialised_block
from civicgrid.core.places import common_ancestor
from civicgrid.core.runs import lost_after, runs_lost_fail
from civicgrid.core.scoping import Scope
from civicgrid.ops.jobs import enqueue
from civicgrid.relief import selectors
from civicgrid.relief.conf import relief_setting
from civicgrid.relief.events import ReliefEvent
from civicgrid.relief.models import RoundConfirmation

JOB = "civicgrid.relief.jobs.run_round_confirmation"


def confirms_in_background(waiting: int) -> bool:
    """Whether confirming a round of ``waiting`` needs (:func:`civicgrid.relief.selectors.round_waiting`: its
    requests, and the needs no point serves) queues a job (from ``background_requests`` on) rather than confirms
    within the request: the one decision the preview shows and the confirmation (page or API) takes."""
    return int(waiting or 0) >= relief_setting("background_requests")


def selection_key(*, place_ids: list[int], item_codes: list[str], days: int) -> str:
    """One digest per selection, whatever the order its places and items were picked in."""
    text = json.dumps({"places": sorted(place_ids), "items": sorted(item_codes), "days": days})
    return hashlib.sha256(text.encode()).hexdigest()


def round_confirmation_request(*, user: Any, scope: Scope, place_ids: list[Any], item_codes: list[str], days: Any,
                               policy: str, seed: int, fingerprint: str, needs_up_to: Any = None,
                               n_requests: int = 0) -> RoundConfirmation:
    """Queue the confirmation of a previewed round (the job runs once this transaction commits). Refused as the
    confirmation itself would refuse the selection, policy or seed, and while a confirmation of the same places,
    items and days is queued or running (a double tap makes one round). ``n_requests`` is the preview's count,
    shown while the job runs; nothing depends on it."""
    places, items, days = selectors.round_choice(scope=scope, place_ids=place_ids, item_codes=item_codes, days=days,
                                                 policy=policy, seed=seed)
    fingerprint = str(fingerprint or "")
    if not fingerprint or len(fingerprint) > 64:
        raise Invalid({"fingerprint": _("Preview the round again before confirming it.")})
    ids, codes = sorted(p.pk for p in places), sorted(i.code for i in items)
    key = selection_key(place_ids=ids, item_codes=codes, days=days)
    n_requests = whole_number(n_requests, "n_requests", minimum=0, maximum=2**31 - 1)
    needs_up_to = selectors.round_cutoff(needs_up_to)
    with serialised_block():  # SQLite: the write lock first, so that racing requests wait instead of failing
        confirmations_lost_fail(selection_key=key)  # a lost one no longer holds the selection
        if RoundConfirmation.objects.filter(selection_key=key, status__in=_UNDER_WAY).exists():
            raise Conflict(_already())
        try:
            with transaction.atomic():  # the schema's one-per-selection index decides a race the check missed
                confirmation = RoundConfirmation.objects.create(
                    place_path=common_ancestor([p.path for p in places]), place_ids=ids, item_codes=codes,
                    days=days, policy=policy, seed=seed, fingerprint=fingerprint, needs_up_to=needs_up_to,
                    selection_key=key,
                    n_requests=n_requests, requested_by=audit.acting_user(user),
                    language=(translation.get_language() or settings.LANGUAGE_CODE)[:16])
        except IntegrityError:
            raise Conflict(_already()) from None
        audit.record(user=user, event=ReliefEvent.CONFIRMATION_REQUESTED, instance=confirmation,
                     new=audit.snapshot(confirmation))
        enqueue(JOB, confirmation.pk, name=f"round confirmation {confirmation.pk}")
        return confirmation


_UNDER_WAY = (RoundConfirmation.Status.QUEUED, RoundConfirmation.Status.RUNNING)


def confirmations_lost_fail(*, selection_key: str | None = None) -> int:
    """Fail every confirmation (of one selection, or all) that the queue will no longer run
    (:func:`civicgrid.core.runs.lost_after`); how many. Run every minute, and before a new request for the
    selection: a lost confirmation would otherwise say "under way" forever and refuse every new one."""
    return runs_lost_fail(RoundConfirmation, event=ReliefEvent.CONFIRMATION_FAILED,
                          runs=Q(selection_key=selection_key) if selection_key else None,
                          error=f"lost: not finished within {lost_after()}; the queue will not run it again")


def _already() -> str:
    return _("This selection is already being confirmed: follow its progress on the allocation page.")
