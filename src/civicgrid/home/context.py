"""Display preferences every page reads: the large-text mode (a cookie, so it holds before log-in too)."""

from typing import Any

from django.http import HttpRequest

TEXT_COOKIE = "civicgrid_text"


def display(request: HttpRequest) -> dict[str, Any]:
    return {"large_text": request.COOKIES.get(TEXT_COOKIE) == "large"}
