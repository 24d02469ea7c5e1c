"""CAP 1.2 (OASIS Common Alerting Protocol) rendering of an alert, and an Atom feed that carries each
alert's CAP message in its entry, as public alert aggregators read them.

One ``<info>`` block per language the alert is written in (zh-CN first, then en-US); the area is the
alert's place, with its GeoJSON outline as a CAP polygon ("lat,lon" pairs, closed) when it has one and
its code as a geocode. Rumour clarifications travel as ``<parameter>`` entries.
"""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable

from civicgrid.alerts.models import Alert

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"
CAP_MIME = "application/cap+xml"
PLACE_CODE_NAME = "civicgridPlaceCode"
ET.register_namespace("cap", CAP_NS)
ET.register_namespace("atom", ATOM_NS)  # attributes are unqualified, so the feed cannot use a default namespace


def cap_time(value: dt.datetime) -> str:
    """CAP's dateTime form: seconds precision and an explicit offset (never 'Z')."""
    if value.tzinfo is None:
        raise ValueError("CAP times must be timezone-aware")
    text = value.replace(microsecond=0).isoformat()
    return text[:-6] + "+00:00" if text.endswith("-00:00") else text


def sender_of(alert: Alert) -> str:
    """The sender: the publishing area's code, which has no spaces, commas or '<' (CAP forbids them)."""
    return f"civicgrid@{alert.area.code}"


def cap_polygon(geometry: object) -> str | None:
    """A GeoJSON Polygon's outer ring as CAP's 'lat,lon lat,lon ...' (closed), else None."""
    if isinstance(geometry, str):
        try:
            geometry = json.loads(geometry)
        except ValueError:
            return None
    if not isinstance(geometry, dict) or geometry.get("type") != "Polygon":
        return None
    rings = geometry.get("coordinates") or []
    ring = rings[0] if rings else []
    if len(ring) < 3:
        return None
    points = [(float(p[1]), float(p[0])) for p in ring]
    if points[0] != points[-1]:
        points.append(points[0])
    if len(points) < 4:
        return None
    return " ".join(f"{lat:.6f},{lon:.6f}" for lat, lon in points)


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, f"{{{CAP_NS}}}{tag}")
    if text is not None:
        element.text = text
    return element


def _info(root: ET.Element, alert: Alert, *, language: str, zh: bool) -> None:
    def pick(en: str, chinese: str) -> str:
        return (chinese or en) if zh else (en or chinese)

    info = _sub(root, "info")
    _sub(info, "language", language)
    _sub(info, "category", alert.category)
    _sub(info, "event", pick(alert.event_en, alert.event_zh) or alert.get_category_display())
    _sub(info, "urgency", alert.urgency)
    _sub(info, "severity", alert.severity)
    _sub(info, "certainty", alert.certainty)
    if alert.is_restricted:
        _sub(info, "audience", alert.group)
    if alert.expires_at:
        _sub(info, "expires", cap_time(alert.expires_at))
    if alert.sender_name:
        _sub(info, "senderName", alert.sender_name)
    for tag, en, chinese in (("headline", alert.headline_en, alert.headline_zh),
                             ("description", alert.description_en, alert.description_zh),
                             ("instruction", alert.instruction_en, alert.instruction_zh)):
        text = pick(en, chinese)
        if text:
            _sub(info, tag, text)
    for clarification in alert.clarifications.all():
        parameter = _sub(info, "parameter")
        _sub(parameter, "valueName", "rumourClarification")
        question = pick(clarification.question_en, clarification.question_zh)
        answer = pick(clarification.answer_en, clarification.answer_zh)
        _sub(parameter, "value", f"{question} -- {answer}")
    area = _sub(info, "area")
    _sub(area, "areaDesc", alert.area.name)
    polygon = cap_polygon(alert.area.geometry)
    if polygon:
        _sub(area, "polygon", polygon)
    geocode = _sub(area, "geocode")
    _sub(geocode, "valueName", PLACE_CODE_NAME)
    _sub(geocode, "value", alert.area.code)


def cap_element(alert: Alert) -> ET.Element:
    """The ``<alert>`` element of CAP 1.2 for ``alert``."""
    root = ET.Element(f"{{{CAP_NS}}}alert")
    _sub(root, "identifier", alert.identifier)
    _sub(root, "sender", sender_of(alert))
    _sub(root, "sent", cap_time(alert.sent_at))
    _sub(root, "status", alert.status)
    _sub(root, "msgType", alert.msg_type)
    _sub(root, "source", "civicgrid")
    if alert.is_restricted:
        _sub(root, "scope", "Restricted")
        _sub(root, "restriction", f"responders only: {alert.group}")
    else:
        _sub(root, "scope", "Public")
    if alert.references_id:
        ref = alert.references
        assert ref is not None
        _sub(root, "references", f"{sender_of(ref)},{ref.identifier},{cap_time(ref.sent_at)}")
    if alert.source:
        _sub(root, "incidents", alert.source.replace(":", "-"))
    languages = [("zh-CN", True)] if (alert.headline_zh or alert.description_zh) else []
    if alert.headline_en or alert.description_en or not languages:
        languages.append(("en-US", False))
    for language, zh in languages:
        _info(root, alert, language=language, zh=zh)
    return root


def cap_xml(alert: Alert) -> bytes:
    """The CAP 1.2 XML document of ``alert`` (UTF-8, with declaration)."""
    return ET.tostring(cap_element(alert), encoding="utf-8", xml_declaration=True,
                       default_namespace=CAP_NS)


def atom_feed(alerts: Iterable[Alert], *, feed_id: str, title: str, self_url: str,
              alert_url: str, updated: dt.datetime) -> bytes:
    """An Atom 1.0 feed with one entry per alert; each entry links to the alert's CAP document and
    carries it whole in ``<content type="application/cap+xml">``.

    ``alert_url`` is a format string with ``{id}`` for an alert's CAP address.
    """
    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        if text is not None:
            element.text = text
        return element

    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    sub(feed, "id", feed_id)
    sub(feed, "title", title)
    sub(feed, "updated", cap_time(updated))
    author = sub(feed, "author")
    sub(author, "name", "civicgrid")
    sub(feed, "link", rel="self", href=self_url)
    for alert in alerts:
        entry = sub(feed, "entry")
        sub(entry, "id", f"urn:civicgrid:alert:{alert.identifier}")
        sub(entry, "title", alert.headline_zh or alert.headline_en or alert.identifier)
        sub(entry, "updated", cap_time(alert.sent_at))
        sub(entry, "published", cap_time(alert.sent_at))
        sub(entry, "link", rel="alternate", type=CAP_MIME, href=alert_url.format(id=alert.pk))
        summary = alert.description_zh or alert.description_en
        if summary:
            sub(entry, "summary", summary)
        content = sub(entry, "content", type=CAP_MIME)
        content.append(cap_element(alert))
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
