"""``{% doorplate_qr request %}``: a QR code (SVG, inline) of the page's own address, for printing on a
household's or a building's door plate. Drawn by segno, server-side: no script, no outside service."""

from __future__ import annotations

import segno
from django import template
from django.http import HttpRequest
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


def qr_svg(text: str) -> str:
    """An inline SVG of ``text`` as a QR code (error correction M, 4-module quiet zone)."""
    code = segno.make(text, error="m", micro=False)
    return code.svg_inline(scale=4, dark="#000", light="#fff", border=4, omitsize=True)


@register.simple_tag
def doorplate_qr(request: HttpRequest) -> SafeString:
    url = request.build_absolute_uri(request.path)
    return mark_safe(qr_svg(url))  # segno escapes nothing user-supplied into markup: the SVG holds only paths
