"""The "what changed" panel and page on the records: the panel's aggregate queries against plain counts of
the rows, the demo's labelled backfill around a past emergency, the page's verdict (the effect the
backfill was generated with is inside the interval) and who may open it."""

from __future__ import annotations

import math
import re
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from civicgrid.cases.models import Case
from civicgrid.emergency.models import Emergency
from civicgrid.evaluation import demo
from civicgrid.evaluation.compare import compare
from civicgrid.evaluation.panel import SOURCES, build_panel
from civicgrid.registry.models import Place
from tests.platform.factories import user

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded() -> Emergency:
    from civicgrid.emergency.models import ChecklistItem, ChecklistTemplate, PlanTemplate
    from civicgrid.emergency.shipped import templates_install

    templates_install(plan_model=PlanTemplate, checklist_model=ChecklistTemplate, item_model=ChecklistItem)
    lines = demo.demo_load(households=700, seed=11)
    assert "historical demo case records" in lines[0]
    return Emergency.objects.get()


def test_panel_counts_equal_plain_counts_of_the_rows_in_few_queries(loaded: Emergency) -> None:
    communities = list(Place.objects.filter(level="community").order_by("code"))
    start, end = timezone.localdate() - timedelta(days=demo.DAYS), timezone.localdate()
    with CaptureQueriesContext(connection) as queries:
        panel = build_panel(source="cases.reported", units=communities, start=start, end=end)
    assert len(queries) <= len(communities) + 2  # grids of each unit, then one GROUP BY query
    truth: Counter[tuple[str, object]] = Counter()
    for case in Case.objects.filter(source=demo.SOURCE).select_related("grid__parent"):
        truth[(case.grid.parent.code, timezone.localtime(case.reported_at).date())] += 1
    got = {(r.unit, r.date.date()): r.value for r in panel.itertuples()}
    assert len(got) == demo.DAYS * len(communities)  # every day, 0 where nothing was reported
    assert all(got[key] == truth.get(key, 0) for key in got)
    assert sum(got.values()) == Case.objects.filter(source=demo.SOURCE).count()


def test_handling_time_panel_is_the_weighted_mean_of_the_rows(loaded: Emergency) -> None:
    community = Place.objects.filter(level="community").order_by("code").first()
    assert community is not None
    start, end = timezone.localdate() - timedelta(days=demo.DAYS), timezone.localdate()
    panel = build_panel(source="cases.handling_hours", units=[community], start=start, end=end, weekly=True)
    rows = Case.objects.filter(source=demo.SOURCE, grid__parent=community)
    hours = sum((c.handled_at - c.reported_at).total_seconds() / 3600 for c in rows)
    assert (panel["value"] * panel["weight"]).sum() == pytest.approx(hours, rel=1e-9)
    assert panel["weight"].sum() == rows.count()


def test_the_backfill_is_labelled_and_the_emergency_is_past(loaded: Emergency) -> None:
    assert loaded.status == Emergency.Status.CLOSED and loaded.activated_at < timezone.now() - timedelta(days=21)
    backfill = Case.objects.filter(source=demo.SOURCE)
    assert backfill.exists() and set(backfill.values_list("reporter_label", flat=True)) == {"演示历史数据"}
    assert demo.demo_load(households=700, seed=11) == ["evaluation: historical demo case records already present"]


def within(effect: object, truth: float, z: float = 3.0) -> bool:
    """The truth within ``z`` standard errors of the estimate (one draw: the 95% interval misses 1 in 20)."""
    se = (math.log(effect.high) - math.log(effect.low)) / (2 * 1.959964)  # type: ignore[attr-defined]
    return abs(math.log(effect.ratio) - math.log(truth)) <= z * se  # type: ignore[attr-defined]


def test_comparison_recovers_the_backfilled_effect(loaded: Emergency) -> None:
    community = loaded.community
    others = list(Place.objects.filter(level="community").exclude(pk=community.pk))
    day = timezone.localtime(loaded.activated_at).date()
    more = compare(community=community, event=day, source="cases.reported", comparisons=others,
                   event_en="the flood", event_zh="防汛应急")
    assert within(more.its.effect, demo.MORE_AFTER) and more.its.effect.low > 1
    assert more.did is not None and within(more.did.effect, demo.MORE_AFTER) and more.did.effect.low > 1
    assert more.verdict["en"].startswith("Cases reported rose by") and "增加了" in more.verdict["zh"]
    faster = compare(community=community, event=day, source="cases.handling_hours", comparisons=[],
                     event_en="the flood", event_zh="防汛应急")
    truth = demo.HOURS_AFTER / demo.HOURS_BEFORE
    assert within(faster.its.effect, truth) and faster.its.effect.high < 1
    assert "faster" in faster.verdict["en"] and "快了" in faster.verdict["zh"]


@pytest.fixture
def jobs_run_now(monkeypatch, django_capture_on_commit_callbacks):
    """django-q2 runs a queued job at once, in this process, when the service's transaction commits."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)
    return django_capture_on_commit_callbacks


def _without_time(result: dict) -> dict:
    return {k: v for k, v in result.items() if k != "seconds"}


def test_a_comparison_is_a_job_saved_with_its_inputs_and_a_rerun_gives_the_same_numbers(
        loaded: Emergency, jobs_run_now, monkeypatch: pytest.MonkeyPatch) -> None:
    from civicgrid.accounts.roles import scope_for
    from civicgrid.core.models import AuditLog
    from civicgrid.evaluation import services
    from civicgrid.evaluation.models import Comparison

    district = user("district")  # the district official compares communities with each other
    scope = scope_for(district)
    others = [c.pk for c in Place.objects.filter(level="community").exclude(pk=loaded.community_id)]
    with jobs_run_now(execute=True):
        comparison = services.comparison_request(user=district, scope=scope, source="cases.reported",
                                                 emergency_id=loaded.pk, comparison_ids=others)
    comparison.refresh_from_db()
    assert comparison.status == Comparison.Status.DONE, comparison.error
    assert comparison.progress == 100 and comparison.until == timezone.localdate()
    assert comparison.community_id == loaded.community_id
    assert comparison.event_day == timezone.localtime(loaded.activated_at).date()
    # the job's numbers are the direct comparison's on the same inputs (the function the CLI calls)
    direct = compare(community=loaded.community, event=comparison.event_day, source="cases.reported",
                     comparisons=list(Place.objects.filter(pk__in=others).order_by("code")),
                     event_en=comparison.event_en, event_zh=comparison.event_zh, today=comparison.until)
    assert comparison.result["its"]["ratio"] == pytest.approx(direct.its.effect.ratio, rel=1e-5)
    assert direct.did is not None and comparison.result["did"]["ratio"] == pytest.approx(direct.did.effect.ratio, rel=1e-5)
    assert comparison.result["verdict"] == direct.verdict
    assert within(direct.its.effect, demo.MORE_AFTER)
    assert AuditLog.objects.filter(event="evaluation.comparison_requested", object_id=str(comparison.pk)).count() == 1
    assert AuditLog.objects.filter(event="evaluation.comparison_finished", object_id=str(comparison.pk)).count() == 1

    # a rerun three days later reads the same window of records: the same numbers
    later = timezone.localdate() + timedelta(days=3)
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: later)
    with jobs_run_now(execute=True):
        again = services.comparison_rerun(user=user("director"), scope=scope_for(user("director")),
                                          comparison_id=comparison.pk)
    again.refresh_from_db()
    assert again.rerun_of_id == comparison.pk and again.until == comparison.until
    assert again.status == Comparison.Status.DONE
    assert _without_time(again.result) == _without_time(comparison.result)


def test_too_few_records_is_a_failed_comparison_shown_on_its_page(jobs_run_now) -> None:
    from civicgrid.accounts.roles import scope_for
    from civicgrid.core.models import AuditLog
    from civicgrid.evaluation import services
    from civicgrid.evaluation.models import Comparison

    director = user("director")
    scope = scope_for(director)
    community = Place.objects.filter(level="community", path__in=scope.area_paths).get()
    with jobs_run_now(execute=True):
        comparison = services.comparison_request(user=director, scope=scope, source="cases.reported",
                                                 community_id=community.pk,
                                                 day=timezone.localdate() - timedelta(days=2))
    comparison.refresh_from_db()
    assert comparison.status == Comparison.Status.FAILED and comparison.error.startswith("too_few_days")
    assert AuditLog.objects.filter(event="evaluation.comparison_failed", object_id=str(comparison.pk)).exists()
    client = Client()
    client.force_login(director)
    page = client.get(f"/analytics/what-changed/{comparison.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    text = page.content.decode()
    assert page.status_code == 200 and 'id="failed"' in text and "记录不足" in text


def test_refusals(loaded: Emergency) -> None:
    from civicgrid.accounts.roles import scope_for
    from civicgrid.core.errors import Forbidden, Invalid, NotFound
    from civicgrid.evaluation import services

    director = user("director")
    scope = scope_for(director)
    mine = Place.objects.filter(level="community", path__in=scope.area_paths).get()
    other = Place.objects.filter(level="community").exclude(pk=mine.pk).first()
    past = timezone.localdate() - timedelta(days=40)
    with pytest.raises(NotFound):
        services.comparison_request(user=director, scope=scope, source="cases.reported", community_id=other.pk,
                                    day=past)
    with pytest.raises(Invalid):  # a comparison community out of scope looks like a wrong choice
        services.comparison_request(user=director, scope=scope, source="cases.reported", community_id=mine.pk,
                                    day=past, comparison_ids=[other.pk])
    with pytest.raises(Invalid):
        services.comparison_request(user=director, scope=scope, source="no.such", community_id=mine.pk, day=past)
    with pytest.raises(Invalid):
        services.comparison_request(user=director, scope=scope, source="cases.reported", community_id=mine.pk,
                                    day=timezone.localdate())
    with pytest.raises(Invalid):
        services.comparison_request(user=director, scope=scope, source="cases.reported")
    grid = user("grid")
    with pytest.raises(Forbidden):
        services.comparison_request(user=grid, scope=scope_for(grid), source="cases.reported",
                                    community_id=mine.pk, day=past)
    district = user("district")
    theirs = services.comparison_request(user=district, scope=scope_for(district), source="cases.reported",
                                         community_id=other.pk, day=past)
    with pytest.raises(NotFound):  # the director does not see a comparison of another community
        services.comparison_rerun(user=director, scope=scope, comparison_id=theirs.pk)


def test_pages_show_progress_then_the_verdict_in_each_language_and_refuse_a_grid_member(
        loaded: Emergency, jobs_run_now) -> None:
    from civicgrid.evaluation.models import Comparison
    from tests.platform.test_language import _codes, _offenders, _Text

    client = Client()
    client.force_login(user("director"))
    form = client.get("/analytics/what-changed/", {"emergency": loaded.pk, "outcome": "cases.handling_hours"},
                      HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert form.status_code == 200 and "前后对比" in form.content.decode()
    assert not Comparison.objects.exists()  # opening the page (even with the glance's link) queues nothing
    # queued, not yet run: the page shows the progress and refreshes itself
    response = client.post("/analytics/what-changed/", {"emergency": loaded.pk, "outcome": "cases.handling_hours"},
                           HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 302
    waiting = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'id="progress"' in waiting and 'http-equiv="refresh"' in waiting and "排队中" in waiting
    with jobs_run_now(execute=True):
        response = client.post("/analytics/what-changed/",
                               {"emergency": loaded.pk, "outcome": "cases.handling_hours"},
                               HTTP_ACCEPT_LANGUAGE="zh-hans")
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="zh-hans")
    text = page.content.decode()
    assert page.status_code == 200 and 'id="verdict"' in text and "快了" in text
    assert "faster" not in text  # the reader's language only; the English verdict is one switch away
    english = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="verdict"' in english and "faster" in english and "快了" not in english
    assert "plotly-figure" in text and "安慰剂检验" in text and 'http-equiv="refresh"' not in text
    parser = _Text()
    parser.feed(text)
    codes = _codes("zh-hans")
    username = re.compile("director")  # the header's user name: data
    assert _offenders(parser.parts, "zh-hans", username, codes) == []  # no English on the Chinese page
    listing = client.get("/analytics/what-changed/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'id="comparisons"' in listing
    grid = Client()
    grid.force_login(user("grid"))
    assert grid.get("/analytics/what-changed/").status_code == 403


def test_every_source_answers_on_the_records(loaded: Emergency) -> None:
    communities = list(Place.objects.filter(level="community"))
    start, end = timezone.localdate() - timedelta(days=7), timezone.localdate()
    for key in SOURCES:
        frame = build_panel(source=key, units=communities, start=start, end=end)
        assert list(frame.columns) == ["unit", "date", "value", "weight"]


def test_cli_compares_on_the_live_records(loaded: Emergency, capsys: pytest.CaptureFixture[str]) -> None:
    from civicgrid.cli import main

    others = Place.objects.filter(level="community").exclude(pk=loaded.community_id).values_list("code", flat=True)
    code = main(["compare", "--community", loaded.community.code, "--event", f"emergency:{loaded.pk}",
                 "--outcome", "cases.handling_hours", "--compare", *others, "--out", "-"])
    out = capsys.readouterr().out
    assert code == 0 and out.startswith("method,label,ratio,low,high,p_value,alarm")
    assert "stacked_did" in out and "faster" in out and "快了" in out
    assert main(["compare", "--community", "NO-SUCH", "--event", "2026-01-01", "--out", "-"]) == 2


def test_volunteer_hours_panel_equals_a_plain_sum_of_the_ledger() -> None:
    """The volunteers app's outcomes in the panel: counted hours by day and community, against a plain sum
    of the ledger rows (hours typed by hand and not approved are not counted)."""
    from decimal import Decimal

    from civicgrid.registry.models import Household, Person
    from civicgrid.volunteers.models import HoursEntry, Volunteer

    today = timezone.localdate()
    communities = list(Place.objects.filter(level="community").order_by("code"))
    now = timezone.now()
    for n, community in enumerate(communities):
        grid = Place.objects.filter(level="grid", parent=community).order_by("code").first()
        person = Person.objects.create(code=f"panel-vol-{n}", name="志愿者")
        volunteer = Volunteer.objects.create(person=person, home=grid, place_path=grid.path, joined_on=today)
        household = Household.objects.filter(place_path__startswith=grid.path).order_by("id").first()
        for k, (day, hours) in enumerate(((1, "1.5"), (1, "2"), (3, "0.5"))):
            HoursEntry.objects.create(volunteer=volunteer, source="care_visit", source_id=800_000 + n * 10 + k,
                                      hours=Decimal(hours), on=today - timedelta(days=day),
                                      place_path=household.place_path, at=now)
        HoursEntry.objects.create(volunteer=volunteer, source="manual", hours=Decimal("4"), note="typed",
                                  on=today - timedelta(days=1), place_path=household.place_path, at=now)
    panel = build_panel(source="volunteers.hours", units=communities, start=today - timedelta(days=7), end=today)
    got = {(r.unit, r.date.date()): r.value for r in panel.itertuples() if r.value}
    truth: dict[tuple[str, object], float] = {}
    for entry in HoursEntry.objects.filter(source="care_visit", volunteer__person__code__startswith="panel-vol-"):
        community = next(c.code for c in communities if entry.place_path.startswith(c.path))
        truth[(community, entry.on)] = truth.get((community, entry.on), 0.0) + float(entry.hours)
    assert got == pytest.approx(truth) and len(truth) == 2 * len(communities)
