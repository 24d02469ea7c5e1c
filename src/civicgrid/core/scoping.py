"""Role scoping: one mechanism, applied to every query.

A user's :class:`Scope` says where they may look (place-path prefixes), which households and actors
they may see by name (their own household, the households of tasks given to them, their own
organisation), and whether they may see full identity numbers. Each model declares once, with
:func:`register`, how its rows relate to a scope; every selector then calls :func:`scoped`. Views never
test roles themselves: they ask :func:`require` whether a role may use a kind of resource at all
(403 if not) and fetch detail rows through a scoped queryset (404 if out of scope).

Where a task module (relief deliveries, emergency sweeps) gives households to social-organisation staff
or volunteers, it registers a provider with :func:`register_task_households`; the registry alone gives
them none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.db.models import Q

from civicgrid.core.errors import Forbidden, NotFound
from civicgrid.core.places import under

M = TypeVar("M", bound=models.Model)

ROLES: tuple[str, ...] = (
    "district_official", "community_director", "grid_member", "org_staff", "volunteer", "resident",
)

# Which kinds of resource each role may use at all, granted by each app's plugin declaration
# (``AppPlugin.access``); what a role then sees is decided by its scope. "*_manage" resources are the
# coordinator's acts (dispatching, activating a plan, confirming a round).
# Everyone but the resident: menu items a resident never uses (see NavItem.roles).
STAFF_ROLES: tuple[str, ...] = tuple(r for r in ROLES if r != "resident")

_ACCESS: dict[str, set[str]] = {role: set() for role in ROLES}


def grant(role: str, resources: Iterable[str]) -> None:
    _ACCESS[role].update(resources)


def access() -> dict[str, frozenset[str]]:
    """Role -> the resources it may use, as granted by every installed app."""
    return {role: frozenset(resources) for role, resources in _ACCESS.items()}


@dataclass(frozen=True)
class Scope:
    role: str
    unrestricted: bool = False  # superusers (maintenance), never a demo role
    area_paths: tuple[str, ...] = ()  # places the user may browse
    record_paths: tuple[str, ...] = ()  # where the user may see household and resident records
    household_ids: frozenset[int] = frozenset()
    actor_ids: frozenset[int] = frozenset()
    home_path: str = ""  # a resident's building: they may see the actors serving it
    identity_clearance: bool = False

    def may(self, resource: str) -> bool:
        return self.unrestricted or resource in _ACCESS.get(self.role, ())

    def place_path(self) -> str:
        """Where an act of this scope lies when its record has no place of its own (an export, a
        district-wide template edit): the deepest place containing the scope's area."""
        from civicgrid.core.places import common_ancestor

        return common_ancestor([p for p in (*self.area_paths, self.home_path) if p])

    def actor_area_paths(self) -> set[str]:
        """Paths of every place an actor visible to this scope may serve: the places in scope and all
        their ancestors (a sub-district's social organisation serves each community in it)."""
        from civicgrid.core.places import ancestors

        return {a for path in (*self.area_paths, self.home_path) if path for a in ancestors(path)}


NOBODY = Scope(role="")
# The platform itself acting (periodic jobs, the demo loader, imports from the command line): sees all.
PLATFORM = Scope(role="platform", unrestricted=True, identity_clearance=True)


@dataclass(frozen=True)
class ScopeRule:
    """How rows of one model relate to a scope. Each argument names a lookup path on the model."""

    area_path: str | None = None  # row lies inside Scope.area_paths
    record_path: str | None = None  # row lies inside Scope.record_paths
    household: str | None = None  # row belongs to one of Scope.household_ids
    actor: str | None = None  # row belongs to one of Scope.actor_ids
    serving_area_path: str | None = None  # row serves a place in or above the scope
    via: tuple[str, type[models.Model]] | None = field(default=None)  # visible when a related row is


_RULES: dict[type[models.Model], ScopeRule] = {}
_TASK_PROVIDERS: list[Callable[[Any], Iterable[int]]] = []


def register(model: type[models.Model], rule: ScopeRule) -> None:
    _RULES[model] = rule


def rule_for(model: type[models.Model]) -> ScopeRule | None:
    return _RULES.get(model)


def register_task_households(provider: Callable[[Any], Iterable[int]]) -> None:
    """Register ``provider(user) -> household ids`` for households a user's tasks give access to."""
    _TASK_PROVIDERS.append(provider)


def task_households(user: Any) -> frozenset[int]:
    return frozenset(hid for provider in _TASK_PROVIDERS for hid in provider(user))


def scoped(queryset: models.QuerySet[M], scope: Scope) -> models.QuerySet[M]:
    """The rows of ``queryset`` that ``scope`` may see."""
    if scope.unrestricted:
        return queryset
    try:
        rule = _RULES[queryset.model]
    except KeyError:  # fail closed: an unregistered model is never shown through a scope
        raise LookupError(f"{queryset.model._meta.label} has no scope rule; register one") from None
    q = Q(pk__in=[])
    if rule.area_path:
        q |= under(rule.area_path, scope.area_paths)
    if rule.record_path:
        q |= under(rule.record_path, scope.record_paths)
    if rule.household and scope.household_ids:
        q |= Q(**{f"{rule.household}__in": scope.household_ids})
    if rule.actor and scope.actor_ids:
        q |= Q(**{f"{rule.actor}__in": scope.actor_ids})
    if rule.serving_area_path:
        ancestors = scope.actor_area_paths()
        q |= Q(**{f"{rule.serving_area_path}__in": ancestors}) | under(rule.serving_area_path,
                                                                           scope.area_paths)
    if rule.via:
        lookup, related_model = rule.via
        visible = scoped(related_model._default_manager.all(), scope).values("pk")
        q |= Q(**{f"{lookup}__in": visible})
    filtered = queryset.filter(q)
    return filtered.distinct() if rule.via else filtered


def sees(scope: Scope, instance: models.Model) -> bool:
    """Whether ``scope`` may see ``instance``, decided from the row in hand: the rule of :func:`scoped`,
    for a hot path that has read its rows already (a batch of need filings locks all its households in one
    query, then checks each filing's scope here). Only for rules on the model's own columns (no ``via``, no
    related lookups): anything else raises ``LookupError``, never guesses. A test checks that this and
    :func:`scoped` agree row for row."""
    if scope.unrestricted:
        return True
    rule = _RULES.get(type(instance))
    lookups = (rule.area_path, rule.record_path, rule.household, rule.actor) if rule else ()
    if rule is None or rule.via or rule.serving_area_path or any(x and "__" in x for x in lookups):
        raise LookupError(f"{type(instance)._meta.label}: sees() needs a rule on the model's own columns")

    def inside(lookup: str | None, paths: tuple[str, ...]) -> bool:
        return bool(lookup) and any(str(getattr(instance, lookup or "")).startswith(p) for p in paths)

    return (inside(rule.area_path, scope.area_paths) or inside(rule.record_path, scope.record_paths)
            or bool(rule.household and getattr(instance, rule.household) in scope.household_ids)
            or bool(rule.actor and getattr(instance, rule.actor) in scope.actor_ids))


def require(scope: Scope, resource: str) -> None:
    """Refuse (HTTP 403) a role that may not use this kind of resource at all."""
    if not scope.may(resource):
        raise Forbidden()  # "Your role may not do this.", in the user's language (never the role's code)


def get_in_scope(queryset: models.QuerySet[M], scope: Scope, **lookup: Any) -> M:
    """The one row matching ``lookup`` that ``scope`` may see; :class:`NotFound` otherwise (a row
    outside the scope is indistinguishable from a row that does not exist)."""
    try:
        return scoped(queryset, scope).get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise NotFound() from None


def check_in_scope(scope: Scope, instance: models.Model) -> None:
    """Refuse, as "not found", a record handed to a service that the acting scope may not see."""
    if not scoped(type(instance)._default_manager.filter(pk=instance.pk), scope).exists():
        raise NotFound()
