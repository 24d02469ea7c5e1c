"""The signed check-in code of a meeting: printed as a QR code (segno) at the door, scanned by an invitee's
phone, it opens the check-in page. Signed with the site's secret and the meeting's own random nonce, so a
code cannot be guessed from a meeting number nor reused for another meeting."""

from __future__ import annotations

import secrets

from django.core import signing

from civicgrid.core.errors import NotFound

SALT = "civicgrid.council.checkin"


def new_nonce() -> str:
    return secrets.token_hex(8)


def checkin_code(*, meeting_id: int, nonce: str) -> str:
    return signing.dumps([meeting_id, nonce], salt=SALT, compress=True)


def read_code(code: str) -> tuple[int, str]:
    """``(meeting id, nonce)`` of a code; NotFound for a code that was not made here (or was altered)."""
    try:
        meeting_id, nonce = signing.loads(code[:200], salt=SALT)
        return int(meeting_id), str(nonce)
    except (signing.BadSignature, ValueError, TypeError):
        raise NotFound() from None
