"""The what-if runs: requested by a director, run as a job, saved with inputs and seed, rerun to the same
numbers; scoped like every record (another community's runs are not found; a grid member may not)."""

from __future__ import annotations

import pytest
from django.test import Client

from civicgrid.accounts.roles import scope_for
from civicgrid.core.errors import Forbidden, Invalid, NotFound
from civicgrid.core.models import AuditLog
from civicgrid.registry.models import Household, Place
from civicgrid.simulation import services
from civicgrid.simulation.models import SimulationRun
from tests.platform.factories import user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture
def jobs_run_now(monkeypatch, django_capture_on_commit_callbacks):
    """django-q2 runs a queued job at once, in this process, when the service's transaction commits."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)
    return django_capture_on_commit_callbacks


def _director_community(director) -> Place:
    scope = scope_for(director)
    return Place.objects.filter(level="community", path__in=scope.area_paths).get()


def test_a_lockdown_run_compares_equity_and_fcfs_and_a_rerun_gives_the_same_numbers(jobs_run_now) -> None:
    director = user("director")
    scope = scope_for(director)
    community = _director_community(director)
    with jobs_run_now(execute=True):
        run = services.run_request(user=director, scope=scope, community_id=community.pk, scenario="lockdown",
                                   policies=["equity", "fcfs"], runs=3, days=12, seed=77)
    run.refresh_from_db()
    assert run.status == SimulationRun.Status.DONE, run.error
    assert run.progress == 100
    assert run.households == Household.objects.filter(place_path__startswith=community.path).count()
    assert run.result["policies"] == ["equity", "fcfs"]
    assert len(run.result["series"]["unmet_need_per_household"]["equity"]["vulnerable"]["mean"]) == 12
    waits = run.result["series"]["days_to_help"]["equity"]["vulnerable"]  # per day, with its interval
    assert len(waits["day"]) == len(waits["mean"]) > 0 and set(waits["day"]) <= set(range(1, 13))
    assert all(lo <= m <= hi for lo, m, hi in zip(waits["low"], waits["mean"], waits["high"], strict=True))
    assert AuditLog.objects.filter(event="simulation.run_requested", object_id=str(run.pk)).count() == 1
    assert AuditLog.objects.filter(event="simulation.run_finished", object_id=str(run.pk)).count() == 1

    with jobs_run_now(execute=True):
        again = services.run_rerun(user=director, scope=scope, run_id=run.pk)
    again.refresh_from_db()
    assert again.rerun_of_id == run.pk and again.seed == 77
    assert again.status == SimulationRun.Status.DONE
    assert again.result == run.result  # the same inputs and seed give the same numbers


def test_the_enterprise_withdrawal_runs_on_the_demo_registry(jobs_run_now) -> None:
    director = user("director")
    community = _director_community(director)
    with jobs_run_now(execute=True):
        run = services.run_request(user=director, scope=scope_for(director), community_id=community.pk,
                                   scenario="lockdown_enterprise_withdrawal", policies=["equity"], runs=2,
                                   days=10, seed=5)
    run.refresh_from_db()
    assert run.status == SimulationRun.Status.DONE, run.error


def test_refusals() -> None:
    director = user("director")
    scope = scope_for(director)
    community = _director_community(director)
    other = Place.objects.filter(level="community").exclude(pk=community.pk).first()
    with pytest.raises(NotFound):
        services.run_request(user=director, scope=scope, community_id=other.pk, scenario="lockdown",
                             policies=["equity"], runs=1)
    with pytest.raises(Invalid):
        services.run_request(user=director, scope=scope, community_id=community.pk, scenario="tsunami",
                             policies=["equity"], runs=1)
    with pytest.raises(Invalid):
        services.run_request(user=director, scope=scope, community_id=community.pk, scenario="lockdown",
                             policies=["fastest"], runs=1)
    with pytest.raises(Invalid):
        services.run_request(user=director, scope=scope, community_id=community.pk, scenario="lockdown",
                             policies=["equity"], runs=31)
    grid = user("grid")
    with pytest.raises(Forbidden):
        services.run_request(user=grid, scope=scope_for(grid), community_id=community.pk, scenario="lockdown",
                             policies=["equity"], runs=1)
    district = user("district")
    run = services.run_request(user=district, scope=scope_for(district), community_id=other.pk,
                               scenario="flood", policies=["equity"], runs=1)
    with pytest.raises(NotFound):  # the director does not see a run of another community
        services.run_rerun(user=director, scope=scope, run_id=run.pk)


def test_pages_render_in_chinese(jobs_run_now) -> None:
    director = user("director")
    community = _director_community(director)
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(director)
    page = client.get("/simulation/")
    assert page.status_code == 200
    assert "情景推演" in page.content.decode() and "Recent runs" not in page.content.decode()
    with jobs_run_now(execute=True):
        response = client.post("/simulation/", {"community": community.pk, "scenario": "lockdown",
                                                "policies": ["equity", "fcfs"], "runs": 2, "days": 6})
    assert response.status_code == 302
    page = client.get(response["Location"])
    text = page.content.decode()
    assert page.status_code == 200
    assert 'id="sentence"' in text and "公平优先" in text and "plotly-figure" in text
    assert 'id="wait-chart"' in text and "等待天数" in text  # the chart (its title is in the JSON) and its note


def test_the_command_line_simulates_a_community_of_the_live_database(tmp_path, capsys) -> None:
    import json

    from civicgrid.cli import main

    community = Place.objects.filter(level="community").order_by("code").first()
    code = main(["simulate", "--community", community.code, "--scenario", "flood", "--days", "5", "--runs", "2",
                 "--serial", "--seed", "3", "--out", str(tmp_path)])
    assert code == 0, capsys.readouterr().err
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["inputs"]["households"] == Household.objects.filter(place_path__startswith=community.path).count()
    assert main(["simulate", "--community", "NO-SUCH", "--scenario", "flood", "--out", str(tmp_path)]) == 2
