"""The audit page (issue 9 §2): filters by event, user, place and date, paged with counts, events in words in
both languages, old -> new values readable, and never a row outside the viewer's scope."""

from __future__ import annotations

import datetime as dt
import re
from unittest import mock

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone, translation

from civicgrid.accounts.roles import scope_for
from civicgrid.core import audit, auditchain
from civicgrid.core.audit import event_choices, event_label
from civicgrid.core.models import AuditLog
from civicgrid.core.scoping import PLATFORM
from civicgrid.engine.allocation import POLICIES
from civicgrid.registry import selectors, services
from civicgrid.registry.models import Household
from tests.platform.factories import user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
LONG_AGO = dt.datetime(2025, 3, 14, 10, 0, tzinfo=dt.UTC)


@pytest.fixture
def changes() -> dict[str, Household]:
    """A change by the director in their community (today), one by the platform in the same community long
    ago, and one in the other community (today)."""
    director = user("director")
    scope = scope_for(director)
    mine = Household.objects.filter(place_path__startswith=scope.record_paths[0]).order_by("pk")
    other = Household.objects.exclude(place_path__startswith=scope.record_paths[0]).order_by("pk").first()
    services.household_update(user=director, scope=scope, household=mine[0], address="东街 1 号")
    with mock.patch.object(auditchain.timezone, "now", return_value=LONG_AGO):
        services.household_update(user=None, scope=PLATFORM, household=mine[1], address="南街 2 号")
    services.household_update(user=None, scope=PLATFORM, household=other, address="西街 9 号")
    return {"mine": mine[0], "old": mine[1], "other": other}


def _page(query: dict[str, str], username: str = "director", language: str = "en") -> str:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user(username))
    response = client.get("/audit/", query)
    assert response.status_code == 200
    return response.content.decode()


def _ids(**filters: object) -> set[int]:
    return {int(row.object_id) for row in selectors.audit_list(scope=scope_for(user("director")), **filters)
            if row.model == "registry.Household"}


def test_event_filter_and_scope(changes: dict[str, Household]) -> None:
    ids = _ids(event="registry.household_updated")
    assert {changes["mine"].pk, changes["old"].pk} <= ids and changes["other"].pk not in ids
    assert all(r.event == "registry.household_updated"
               for r in selectors.audit_list(scope=scope_for(user("director")), event="registry.household_updated"))
    page = _page({"event": "registry.household_updated"})
    assert "东街 1 号" in page and "西街 9 号" not in page
    assert "household changed" in page and "resident added" not in page.split("<tbody>")[1]


def test_user_filter(changes: dict[str, Household]) -> None:
    director = user("director")
    assert _ids(user_id=director.pk) == {changes["mine"].pk}
    page = _page({"user": str(director.pk)})
    assert "东街 1 号" in page and "南街 2 号" not in page
    # the count is every event of the director's in the director's area (other tests may have added some)
    n = AuditLog.objects.filter(user=director, place_path__startswith=director.role.place.path).count()
    assert f"{n} event" in page


def test_date_filter(changes: dict[str, Household]) -> None:
    today = timezone.localdate()
    assert _ids(until=dt.date(2025, 3, 31)) == {changes["old"].pk}
    assert _ids(since=dt.date(2025, 3, 14), until=dt.date(2025, 3, 14)) == {changes["old"].pk}
    assert changes["old"].pk not in _ids(since=today) and changes["mine"].pk in _ids(since=today)
    page = _page({"since": "2025-03-01", "until": "2025-03-31"})
    assert "南街 2 号" in page and "东街 1 号" not in page


def test_place_filter_narrows_and_never_widens_the_scope(changes: dict[str, Household]) -> None:
    other_community = "/".join(changes["other"].place_path.split("/")[:3]) + "/"
    assert _ids(place=other_community) == set()
    page = _page({"place": other_community})
    assert "西街 9 号" not in page and "Select a valid choice" in page
    mine_grid = "/".join(changes["mine"].place_path.split("/")[:4]) + "/"
    assert changes["mine"].pk in _ids(place=mine_grid)
    # the district official sees both communities' changes
    page = _page({"event": "registry.household_updated"}, username="district")
    assert "东街 1 号" in page and "西街 9 号" in page


def test_old_and_new_values_are_shown_readably(changes: dict[str, Household]) -> None:
    old_address = AuditLog.objects.filter(object_id=str(changes["mine"].pk),
                                          model="registry.Household").latest("seq").old["address"]
    page = _page({"user": str(user("director").pk)})
    # the field by its label, not its column name
    assert f"<b>Address</b>: <span class=\"old\">{old_address}</span> → <span class=\"new\">东街 1 号</span>" in page


def test_paged_with_counts_keeping_the_filters(changes: dict[str, Household]) -> None:
    household = changes["mine"]
    with transaction.atomic():
        for i in range(60):
            audit.record(user=user("director"), event="registry.household_updated", instance=household,
                         old={"n": i}, new={"n": i + 1})
    n = selectors.audit_list(scope=scope_for(user("director")), event="registry.household_updated").count()
    page = _page({"event": "registry.household_updated"})
    assert f"{n} events" in page and f"1 / {-(-n // 50)}" in page
    assert "?event=registry.household_updated&amp;page=2" in page
    page2 = _page({"event": "registry.household_updated", "page": "2"})
    assert f"2 / {-(-n // 50)}" in page2


def test_every_event_is_in_words_in_both_languages() -> None:
    assert len(event_choices()) >= 60
    missing = []
    for event, label in event_choices():
        with translation.override("en"):
            english = str(label)
        with translation.override("zh-hans"):
            chinese = str(event_label(event))
        if chinese == english or not any("\u4e00" <= c <= "\u9fff" for c in chinese):
            missing.append((event, english))
    assert missing == []


def test_the_page_speaks_chinese(changes: dict[str, Household]) -> None:
    with translation.override("zh-hans"):
        label = str(event_label("registry.household_updated"))
    page = _page({"event": "registry.household_updated"}, language="zh-hans")
    assert label in page and "household changed" not in page


def test_records_are_named_without_english_words_or_codes() -> None:
    """A row names its record by what ``str()`` gave when it was written: a log-in, a role granted and a round
    confirmed are named by the user, the address and the place, never by "log-in", a role's or a policy's code."""
    from civicgrid.accounts.models import LoginAttempt, Role
    from civicgrid.core.scoping import ROLES
    from civicgrid.registry.models import Place
    from civicgrid.relief.models import AllocationRound, RoundConfirmation

    community = Place.objects.filter(level="community").order_by("path").first()
    attempt = LoginAttempt(username="director", ip="127.0.0.1", succeeded=False, refused=True)
    role = Role.objects.filter(role="community_director").select_related("user").first()
    assert community is not None and role is not None
    round = AllocationRound(pk=7, place=community, policy="equity")
    confirmation = RoundConfirmation(pk=8, place_path=community.path, status="queued")
    names = {"attempt": str(attempt), "role": str(role), "round": str(round), "confirmation": str(confirmation)}
    codes = {*ROLES, *POLICIES, *RoundConfirmation.Status.values, "log-in", "round", "confirmation", "from"}
    assert not {name: word for name, text in names.items() for word in re.findall(r"[a-z_-]+", text)
                if word in codes}, names
    assert "director" in names["attempt"] and role.user.username in names["role"]
    assert community.name in names["round"] and community.path in names["confirmation"]


def test_no_models_name_is_written_in_english_words() -> None:
    """What ``str()`` of a record gives is kept as its name in the audit log and shown to readers of every
    language, so no model's ``__str__`` writes words of its own: only the record's values (names, codes, numbers,
    dates), joined by punctuation. Read from each ``__str__``'s source: the words of its text constants."""
    import ast
    import inspect
    import textwrap

    from django.apps import apps

    worded = {}
    for model in apps.get_models():
        if not model.__module__.startswith("civicgrid.") or "__str__" not in vars(model):
            continue
        tree = ast.parse(textwrap.dedent(inspect.getsource(vars(model)["__str__"])))
        function = tree.body[0]
        assert isinstance(function, ast.FunctionDef)
        docstring = ast.get_docstring(function) or ""
        constants = [node.value for node in ast.walk(tree)
                     if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value != docstring]
        words = [w for text in constants for w in re.findall(r"[A-Za-z]{2,}", text)]
        if words:
            worded[model._meta.label] = words
    assert not worded, "\n".join(f"{k}: {v}" for k, v in worded.items())
