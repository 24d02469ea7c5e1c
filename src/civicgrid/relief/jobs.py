"""The job that confirms a queued round (queued by :func:`civicgrid.relief.confirmations.round_confirmation_request`).

Exactly one round per confirmation, however often the job runs: the confirmation is marked done with its round
inside the round's own transaction (``round_confirm``'s ``confirmed``), so a worker killed after that commit
leaves it done and the retry stops at :func:`civicgrid.core.runs.run_begin`, and two deliveries of the job at
once write one round (the second finds the row done under its lock and rolls its round back)."""

from __future__ import annotations

import logging

from django.contrib.auth import get_user_model
from django.utils import translation
from django.utils.translation import gettext as _

from civicgrid.accounts.roles import scope_for
from civicgrid.core.errors import Conflict, Forbidden, Invalid, NotFound, messages_of
from civicgrid.core.locking import locked
from civicgrid.core.runs import run_begin, run_fail, run_finish, run_progress
from civicgrid.relief import services
from civicgrid.relief.events import ReliefEvent
from civicgrid.relief.models import AllocationRound, RoundConfirmation

log = logging.getLogger("civicgrid.relief")
# the error kept when the confirmation refused (needs or stock changed, nothing to allocate, the selection no
# longer the requester's): then the refusal's messages in the requester's language, one a line (the page
# translates them from English for a Chinese reader, and says it plainly otherwise)
REFUSED = "refused"
_REFUSALS = (Conflict, Invalid, Forbidden, NotFound)


class AlreadyDone(Conflict):
    """The confirmation is no longer running when this run of the job writes its round (another run confirmed it
    first, or it was failed as lost meanwhile): this run's round is rolled back."""


def run_round_confirmation(confirmation_id: int) -> str:
    """Confirm the queued round as its requester, with the preview's policy, seed and fingerprint.

    A refusal is a result: failed with its reason. So is any other error: failed, logged, its text kept for the
    operators (the audit row), and not raised again. The page says at once that nothing was allocated and the
    official asks again; a queue retry eleven minutes later would make a round behind their back, or find their
    new request for the same selection in its way. A worker killed mid-run (nothing raised) has the job
    delivered again, and the run starts over; a run failed, or lost (:func:`civicgrid.core.runs.runs_lost_fail`),
    never starts again."""
    job = RoundConfirmation.objects.get(pk=confirmation_id)
    if not run_begin(RoundConfirmation, confirmation_id, again_if_failed=False):
        return f"round confirmation {confirmation_id} already finished"
    requester = None if job.requested_by_id is None else \
        get_user_model().objects.filter(pk=job.requested_by_id, is_active=True).first()

    def confirmed(round: AllocationRound) -> None:
        # only a running confirmation takes its round: one done by another delivery of the job, or failed
        # meanwhile (lost: core.runs.runs_lost_fail, whose page already says nothing was allocated), rolls it back
        status = locked(RoundConfirmation.objects.filter(pk=confirmation_id)).get().status
        if status != RoundConfirmation.Status.RUNNING:
            raise AlreadyDone(f"the confirmation is {status} already")
        run_finish(RoundConfirmation, confirmation_id, event=ReliefEvent.CONFIRMATION_FINISHED, changes={
            "round": round, "result": {"round": round.pk, "requests": round.n_requests,
                                       "units_allocated": round.units_allocated}})

    with translation.override(job.language):  # as within the requester's own request
        try:
            if requester is None:
                raise Forbidden(_("The account that asked for this round no longer exists or is disabled."))
            round = services.round_confirm(
                user=requester, scope=scope_for(requester), place_ids=list(job.place_ids),
                item_codes=list(job.item_codes), days=job.days, policy=job.policy, seed=job.seed,
                fingerprint=job.fingerprint, needs_up_to=job.needs_up_to, progress=run_progress(RoundConfirmation, confirmation_id),
                confirmed=confirmed)
        except AlreadyDone as exc:
            return f"round confirmation {confirmation_id} not confirmed by this run: {exc}"
        except _REFUSALS as exc:
            log.info("round confirmation %s refused: %s", confirmation_id, exc)
            # the requester's rights are the requester's: every viewer of the page reads this, and "your role
            # may not do this" would speak of them
            reasons = messages_of(exc) if requester is None or isinstance(exc, Conflict | Invalid) else [
                _("The account that asked for this round may no longer allocate these places or items.")]
            _fail(confirmation_id, "\n".join([REFUSED, *reasons]))
            return f"round confirmation {confirmation_id} refused"
        except Exception as exc:
            log.exception("round confirmation %s failed", confirmation_id)
            _fail(confirmation_id, f"{type(exc).__name__}: {exc}")
            return f"round confirmation {confirmation_id} failed: {type(exc).__name__}"
    return f"round confirmation {confirmation_id}: round {round.pk}, {round.n_requests} requests"


def _fail(confirmation_id: int, error: str) -> None:
    """Failed with ``error``, unless another run of the job has confirmed it meanwhile (run_fail decides that under
    the row's lock)."""
    run_fail(RoundConfirmation, confirmation_id, event=ReliefEvent.CONFIRMATION_FAILED, error=error)


def reasons(confirmation: RoundConfirmation) -> list[str]:
    """Why a confirmation failed, in the reader's language: the refusal's messages as the job wrote them (in the
    requester's language), translated when they were English and have a translation, else one plain sentence
    (also when the job failed for another reason)."""
    if not confirmation.error:
        return []
    lines = [line for line in confirmation.error.split("\n") if line]
    general = _("The round could not be confirmed, and nothing was allocated. Preview the round again and confirm "
                "it.")
    if lines[0] != REFUSED or len(lines) < 2:
        return [general]
    english = (translation.get_language() or "en").startswith("en")
    if english == confirmation.language.startswith("en"):
        return lines[1:]
    if english:  # a Chinese refusal has no way back to English
        return [general]
    words = [_(line) for line in lines[1:]]  # English messages are msgids of the catalogue
    return [general] if any(w == line for w, line in zip(words, lines[1:], strict=True)) else words
