"""Writes of the council app (README, "The house rules"), split by concern: meetings, attendance, polls
and decisions in :mod:`.meetings`; covenants in :mod:`.covenants`."""

from civicgrid.council.services.covenants import (
    clause_comment,
    clause_save,
    covenant_create,
    covenant_sign,
    version_adopt,
    version_draft,
)
from civicgrid.council.services.meetings import (
    agenda_item_add,
    attendance_mark,
    body_register,
    decision_case_open,
    decision_publish,
    decision_record,
    meeting_check_in,
    meeting_close,
    meeting_create,
    meeting_invite,
    minutes_save,
    poll_close,
    poll_open,
    vote_cast,
)

__all__ = [
    "agenda_item_add", "attendance_mark", "body_register", "clause_comment", "clause_save", "covenant_create",
    "covenant_sign", "decision_case_open", "decision_publish", "decision_record", "meeting_check_in",
    "meeting_close", "meeting_create", "meeting_invite", "minutes_save", "poll_close", "poll_open",
    "version_adopt", "version_draft", "vote_cast",
]
