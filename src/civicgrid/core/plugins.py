"""How a domain app joins the platform: one declaration per app, typed and checked at start-up.

Every civicgrid app's ``AppConfig`` subclasses :class:`CivicgridApp`, and its module ``plugin.py``
holds ``PLUGIN = AppPlugin(...)``: everything the app contributes, in one place. The platform reads
nothing else by convention, and checks the declaration when Django starts, so a misspelt field, a
missing module, an unknown management command, a resource no role may use or a second provider of a
one-of-a-kind hook stops the start-up with a message instead of silently doing nothing.

What an app may declare (all optional), see :class:`AppPlugin`:

* ``urls`` / ``api``: the app has ``urls.py`` (``app_name``, ``urlpatterns``; included at the site
  root) / ``api.py`` (``router``, mounted at ``/api/<label>/``);
* ``nav``: menu items, shown to roles that may use their resource;
* ``access``: which roles may use which of the app's resources (the role grants);
* ``scope_rules``: how each of its models relates to a user's scope (:mod:`civicgrid.core.scoping`);
* ``task_households``: households a user's tasks in this app let them see;
* ``audit_events``: the app's typed audit event names (:mod:`civicgrid.core.audit`);
* ``periodic_jobs``: management commands scheduled every minute on the job queue by
  ``civicgrid worker`` (:mod:`civicgrid.ops.jobs`, with retries), or run once by ``civicgrid tick``;
* ``job_labels``: the words the Jobs page shows for each periodic job and each queued function (required
  for every periodic job; a queued function not named here shows as "Other job");
* ``demo_load``: called by ``civicgrid demo`` after the registry is loaded;
* ``crei_indicators``: providers of Community Resilience and Equity Index indicators, each described
  in the app's own ``crei.yaml`` (the analytics app assembles the catalogue);
* ``governance_contributions``: recorded contributions of actors (resources, decisions, work);
* ``need_sink``: the one service that files a household's need (relief); other apps reach it
  through :func:`need_sink` instead of importing the app;
* ``work_items``: ``work_items(*, user, scope) -> list[WorkItem]``, the app's part of the user's one
  "my work" list on the home page (:func:`work_for` merges and orders every app's);
* ``glance``: ``glance(*, user, scope) -> list[Glance]``, the app's figures and notices on the home page
  (an area's state at a glance for coordinators; the emergency in force for a resident);
* ``work_guards``: ``guard(*, user, scope, place_path, service_kind) -> reason | None``, asked before
  anyone claims work (a delivery, a care visit) in a place; any reason refuses the claim
  (:func:`work_refusal`; the social app refuses organisations not admitted to the emergency in force);
* ``deliverables``: counters of platform records a contract milestone can be tied to ("N care visits"),
  each ``Deliverable(label, count)`` with ``count(*, place_path, start, end, actor_id) -> int``
  (:func:`deliverable`);
* ``tallies``: counts per grid (and round, alert or day) of the app's records, kept in one core table and
  read by the analytics instead of the records (:mod:`civicgrid.core.tallies`).

How to add an app: see "How to add an app" in the README.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from django.apps import AppConfig, apps
from django.core.exceptions import ImproperlyConfigured

from civicgrid.core.scoping import ROLES

if TYPE_CHECKING:
    from django.db import models

    from civicgrid.core.scoping import Scope, ScopeRule


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: Any  # a gettext_lazy string (str or lazy proxy)
    resource: str  # shown when the role may use this resource (see AppPlugin.access)
    order: int = 50
    roles: tuple[str, ...] = ()  # when given, only these roles see the item (a resident's menu stays short)

    def shown_to(self, scope: Scope) -> bool:
        return scope.may(self.resource) and (not self.roles or scope.unrestricted or scope.role in self.roles)


# How pressing a work item is; the "my work" list is ordered by this, then by due time.
LIFE_CRITICAL, OVERDUE, DUE, OPEN = 0, 1, 2, 3


@dataclass(frozen=True)
class WorkItem:
    """One thing for the user to do, from one app. ``title``, ``place`` and ``detail`` are shown as they
    are (already translated); ``kind`` is the app's own key (``"cases.overdue"``), for filtering and tests,
    never shown. ``count`` > 1 stands for that many similar items (a summary line linking to a list)."""

    kind: str
    title: str
    url: str
    app: str
    place: str = ""
    due: datetime | None = None
    urgency: int = OPEN  # LIFE_CRITICAL, OVERDUE, DUE or OPEN
    detail: str = ""
    count: int = 1

    def sort_key(self) -> tuple[int, bool, datetime | str, str]:
        return (self.urgency, self.due is None, self.due or "", self.title)


@dataclass(frozen=True)
class Glance:
    """A figure (or notice) for the home page: ``label`` and ``value`` shown as they are, ``lines`` below
    them; ``alarm`` marks what needs attention. Ordered by ``order`` across apps."""

    key: str
    label: str
    value: str = ""
    url: str = ""
    app: str = ""
    order: int = 50
    alarm: bool = False
    lines: tuple[str, ...] = ()


WORK_LIMIT = 20  # items of one kind listed one by one; the rest become one summary item


def with_rest(shown: list[WorkItem], total: int, rest: Callable[[int], WorkItem]) -> list[WorkItem]:
    """``shown`` plus, when ``total`` is larger, one summary item ``rest(n)`` for the ``n`` not listed."""
    return shown + ([rest(total - len(shown))] if total > len(shown) else [])


class WorkItems(Protocol):
    def __call__(self, *, user: Any, scope: Scope) -> list[WorkItem]: ...


class Glances(Protocol):
    def __call__(self, *, user: Any, scope: Scope) -> list[Glance]: ...


class WorkGuard(Protocol):
    def __call__(self, *, user: Any, scope: Scope, place_path: str, service_kind: str) -> str | None: ...


class DeliverableCount(Protocol):
    def __call__(self, *, place_path: str, start: datetime, end: datetime, actor_id: int | None) -> int: ...


@dataclass(frozen=True)
class Deliverable:
    """Records of one kind that prove work done: ``count`` counts them in a place (a path prefix) and a
    period, optionally only those done by one actor (organisation)."""

    label: Any  # a gettext_lazy string
    count: DeliverableCount


class NeedSink(Protocol):
    """The hook that files a household's need (provided by the relief app).

    ``file`` returns the id of the need (merged per household and item, idempotent per ``key``);
    ``items`` the (code, label) of the items a need may name; ``open_count`` the open needs in scope.
    """

    def file(self, *, user: Any, scope: Scope, household_id: int, item: str, quantity: int, key: str,
             urgency: str, note: str, channel: str) -> int: ...

    def items(self) -> list[tuple[str, str]]: ...

    def open_count(self, *, scope: Scope) -> int: ...


@dataclass(frozen=True)
class AppPlugin:
    """Everything one app contributes to the platform (see the module docstring)."""

    urls: bool = False
    api: bool = False
    nav: tuple[NavItem, ...] = ()
    access: Mapping[str, Iterable[str]] = field(default_factory=dict)  # role -> resources
    scope_rules: Mapping[type[models.Model], ScopeRule] = field(default_factory=dict)
    task_households: tuple[Callable[[Any], Iterable[int]], ...] = ()
    audit_events: type | None = None  # a TextChoices of event names, each "<label>.<event>"
    periodic_jobs: tuple[str, ...] = ()
    demo_load: Callable[..., list[str]] | None = None
    crei_indicators: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    governance_contributions: Callable[..., list[Any]] | None = None
    need_sink: NeedSink | None = None
    work_items: WorkItems | None = None
    glance: Glances | None = None
    work_guards: tuple[WorkGuard, ...] = ()
    deliverables: Mapping[str, Deliverable] = field(default_factory=dict)
    # what the Jobs page calls each of the app's jobs: its periodic commands and the dotted paths of the
    # functions it queues (ops.jobs.enqueue), each in words (a lazy translation), never the code
    job_labels: Mapping[str, Any] = field(default_factory=dict)
    tallies: Mapping[str, Any] = field(default_factory=dict)  # name -> civicgrid.core.tallies.Tally


_PLUGINS: dict[str, AppPlugin] = {}  # app label -> declaration, in INSTALLED_APPS order


class CivicgridApp(AppConfig):
    """Base of every civicgrid app's AppConfig: loads and checks ``<app>.plugin.PLUGIN`` at start-up."""

    def ready(self) -> None:
        module = importlib.import_module(f"{self.name}.plugin")
        plugin = getattr(module, "PLUGIN", None)
        if not isinstance(plugin, AppPlugin):
            raise ImproperlyConfigured(f"{self.name}.plugin must define PLUGIN = AppPlugin(...)")
        _check(self, plugin)
        _PLUGINS[self.label] = plugin
        _apply(plugin)


def _fail(app: AppConfig, what: str) -> None:
    raise ImproperlyConfigured(f"app {app.label!r}: {what}")


def _check(app: AppConfig, plugin: AppPlugin) -> None:
    """What can be checked without the URLconf (nav url names are checked by :func:`check_nav`)."""
    for flag, module in ((plugin.urls, "urls"), (plugin.api, "api")):
        exists = importlib.util.find_spec(f"{app.name}.{module}") is not None
        if flag != exists:
            _fail(app, f"declares {module}={flag} but {module}.py {'exists' if exists else 'is missing'}")
    commands = Path(app.path) / "management" / "commands"
    for job in plugin.periodic_jobs:
        if not (commands / f"{job}.py").exists():
            _fail(app, f"periodic job {job!r} is not a management command of the app")
        if job not in plugin.job_labels:
            _fail(app, f"periodic job {job!r} has no entry in job_labels (the Jobs page shows words, not codes)")
    for job in plugin.job_labels:
        if job in plugin.periodic_jobs:
            continue
        module, _dot, function = job.rpartition(".")
        if not module.startswith(f"{app.name}.") or not callable(
                getattr(importlib.import_module(module), function, None)):
            _fail(app, f"job_labels names {job!r}: neither a periodic job nor a function of the app")
    for role in plugin.access:
        if role not in ROLES:
            _fail(app, f"grants resources to an unknown role {role!r}")
    if plugin.audit_events is not None:
        for value in getattr(plugin.audit_events, "values", ()):
            name = str(value)
            if not name.startswith(f"{app.label}."):
                _fail(app, f"audit event {name!r} must be named '{app.label}.<event>'")
    if plugin.crei_indicators:
        described = _described_indicators(app)
        for name in plugin.crei_indicators:
            if name not in described:
                _fail(app, f"CREI indicator {name!r} is not described in {app.label}/crei.yaml")
    for name, tally in plugin.tallies.items():
        from civicgrid.core.tallies import Tally

        if not name.startswith(f"{app.label}.") or not isinstance(tally, Tally):
            _fail(app, f"tally {name!r} must be a Tally named '{app.label}.<name>'")
    for hook in ("demo_load", "governance_contributions"):
        function = getattr(plugin, hook)
        if function is not None and not callable(function):
            _fail(app, f"{hook} is not callable")
    for hook in ("work_items", "glance"):
        function = getattr(plugin, hook)
        if function is None:
            continue
        if not callable(function):
            _fail(app, f"{hook} is not callable")
        params = inspect.signature(function).parameters
        kinds = {p.kind for p in params.values()}
        if list(params) != ["user", "scope"] or kinds != {inspect.Parameter.KEYWORD_ONLY}:
            _fail(app, f"{hook} takes {list(params)}, the hook declares keyword-only ['user', 'scope']")
    for guard in plugin.work_guards:
        _check_keywords(app, "work guard", guard, ["user", "scope", "place_path", "service_kind"])
    for kind, item in plugin.deliverables.items():
        if not isinstance(item, Deliverable):
            _fail(app, f"deliverable {kind!r} is not a Deliverable")
        _check_keywords(app, f"deliverable {kind!r}", item.count, ["place_path", "start", "end", "actor_id"])
        owner = next((label for label, p in _PLUGINS.items() if kind in p.deliverables), None)
        if owner:
            _fail(app, f"deliverable {kind!r} is already provided by {owner!r}")
    if plugin.need_sink is not None:
        others = [label for label, p in _PLUGINS.items() if p.need_sink is not None]
        if others:
            _fail(app, f"a need sink is already provided by {others[0]!r}")
        _check_protocol(app, plugin.need_sink, NeedSink)


def _check_keywords(app: AppConfig, what: str, function: Any, names: list[str]) -> None:
    if not callable(function):
        _fail(app, f"{what} is not callable")
    params = inspect.signature(function).parameters
    if list(params) != names or {p.kind for p in params.values()} != {inspect.Parameter.KEYWORD_ONLY}:
        _fail(app, f"{what} takes {list(params)}, the hook declares keyword-only {names}")


def _described_indicators(app: AppConfig) -> set[str]:
    import yaml

    path = Path(app.path) / "crei.yaml"
    if not path.exists():
        return set()
    return {e["name"] for e in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("indicators", [])}


def _check_protocol(app: AppConfig, implementation: Any, protocol: type) -> None:
    """Each method of ``protocol`` exists with the same keyword parameters (drift fails loudly)."""
    for name, expected in inspect.getmembers(protocol, inspect.isfunction):
        if name.startswith("_"):
            continue
        actual = getattr(implementation, name, None)
        if not callable(actual):
            _fail(app, f"{protocol.__name__}.{name} is missing")
            return
        want = [p for p in inspect.signature(expected).parameters if p != "self"]
        have = list(inspect.signature(actual).parameters)
        if want != have:
            _fail(app, f"{protocol.__name__}.{name} takes {have}, the hook declares {want}")


def _apply(plugin: AppPlugin) -> None:
    from civicgrid.core import audit, scoping

    for model, rule in plugin.scope_rules.items():
        scoping.register(model, rule)
    for provider in plugin.task_households:
        scoping.register_task_households(provider)
    for role, resources in plugin.access.items():
        scoping.grant(role, resources)
    if plugin.audit_events is not None:
        audit.register_events(plugin.audit_events)


def plugins() -> Mapping[str, AppPlugin]:
    """Every app's declaration by label, in INSTALLED_APPS order (after start-up)."""
    if not apps.ready:
        raise RuntimeError("the app registry is not ready yet")
    return dict(_PLUGINS)


def app_module(label: str, module: str) -> str:
    return f"{apps.get_app_config(label).name}.{module}"


def nav_items() -> list[NavItem]:
    return sorted((item for p in plugins().values() for item in p.nav), key=lambda i: i.order)


def periodic_commands() -> list[str]:
    return [job for p in plugins().values() for job in p.periodic_jobs]


def demo_loaders() -> list[Callable[..., list[str]]]:
    return [p.demo_load for p in plugins().values() if p.demo_load is not None]


def tally_specs() -> dict[str, Any]:
    """Every app's tallies by name (:mod:`civicgrid.core.tallies`)."""
    return {name: t for p in plugins().values() for name, t in p.tallies.items()}


def crei_providers() -> dict[str, Callable[..., Any]]:
    return {name: f for p in plugins().values() for name, f in p.crei_indicators.items()}


def governance_contributors() -> list[Callable[..., list[Any]]]:
    return [p.governance_contributions for p in plugins().values() if p.governance_contributions is not None]


def need_sink() -> NeedSink | None:
    """The installed need sink, or None when no app provides one (needs then become grid cases)."""
    return next((p.need_sink for p in plugins().values() if p.need_sink is not None), None)


def work_for(*, user: Any, scope: Scope) -> list[WorkItem]:
    """The user's one "my work" list: every app's items, life-critical and overdue first, then by due time."""
    items = [item for p in plugins().values() if p.work_items is not None
             for item in p.work_items(user=user, scope=scope)]
    return sorted(items, key=WorkItem.sort_key)


def glance_for(*, user: Any, scope: Scope) -> list[Glance]:
    """Every app's figures and notices for the user's home page, in their declared order."""
    found = [g for p in plugins().values() if p.glance is not None for g in p.glance(user=user, scope=scope)]
    return sorted(found, key=lambda g: g.order)


def work_refusal(*, user: Any, scope: Scope, place_path: str, service_kind: str) -> str | None:
    """Why ``user`` may not claim work of ``service_kind`` in ``place_path`` (the first guard that
    refuses), or None. Every service that lets someone claim work asks this before claiming."""
    for p in plugins().values():
        for guard in p.work_guards:
            reason = guard(user=user, scope=scope, place_path=place_path, service_kind=service_kind)
            if reason:
                return reason
    return None


def job_labels() -> dict[str, Any]:
    """Every app's words for its jobs, by periodic command or queued function path."""
    return {job: label for p in plugins().values() for job, label in p.job_labels.items()}


def deliverables() -> dict[str, Deliverable]:
    """Every app's deliverable counters by kind."""
    return {kind: d for p in plugins().values() for kind, d in p.deliverables.items()}


def deliverable(kind: str) -> Deliverable | None:
    return deliverables().get(kind)


def check_plugins() -> list[str]:
    """What needs every app and the URLconf loaded: each menu item names a page and a resource that
    some role is granted. Run by Django's system checks (``check``, ``migrate``, ``serve``) and by the
    conformance test."""
    from django.urls import NoReverseMatch, reverse

    from civicgrid.core.scoping import access

    granted = set().union(*access().values())
    problems = []
    for item in nav_items():
        if set(item.roles) - set(ROLES):
            problems.append(f"menu item {item.url_name!r} names an unknown role")
        try:
            reverse(item.url_name)
        except NoReverseMatch:
            problems.append(f"menu item {item.url_name!r} does not name a page")
        if item.resource not in granted:
            problems.append(f"menu item {item.url_name!r} needs resource {item.resource!r}, granted to no role")
    return problems
