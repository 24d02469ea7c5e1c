"""Reads from the registry, always through the caller's scope."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from civicgrid.core import textsearch
from civicgrid.core.crypto import digests, mask
from civicgrid.core.models import AuditLog
from civicgrid.core.places import ancestors, depth, parts, under
from civicgrid.core.scoping import Scope, require, scoped
from civicgrid.engine.registry_format import TABLES
from civicgrid.registry.models import (
    HOUSEHOLD_TEXT,
    RESIDENT_TEXT,
    Actor,
    Household,
    Person,
    Place,
    Post,
    Resident,
)
from civicgrid.registry.pinyin import name_initials


def place_list(*, scope: Scope, parent: Place | None = None) -> QuerySet[Place]:
    """Places in scope; with ``parent``, its children; without, the topmost places the scope reaches."""
    require(scope, "places")
    places = scoped(Place.objects.all(), scope)
    if parent is not None:
        return places.filter(parent=parent)
    if scope.unrestricted:
        return places.filter(parent__isnull=True)
    return places.filter(path__in=scope.area_paths)


def place_all(*, scope: Scope) -> QuerySet[Place]:
    require(scope, "places")
    return scoped(Place.objects.all(), scope)


def place_get(*, scope: Scope, place_id: int) -> Place:
    require(scope, "places")
    return scoped(Place.objects.all(), scope).get(pk=place_id)


def place_ancestors(place: Place) -> list[Place]:
    paths = ancestors(place.path)[:-1]
    by_path = {p.path: p for p in Place.objects.filter(path__in=paths)}
    return [by_path[p] for p in paths if p in by_path]


SEARCH_MAX_CHARS = 100  # as the households API's ``q``: a search is a name, a number or part of an address
PHONE_SUFFIX_LIMIT = 20_000  # phones decrypted at most for one last-four-digits search


def grid_paths() -> dict[int, str]:
    """Every grid's id -> path, read once within :func:`civicgrid.core.tallies.shared_reads` (the index's
    indicators). Shared: do not change it."""
    from civicgrid.core import tallies

    return tallies.shared("grid paths", lambda: {pk: path for pk, path, _parent in _grids()})


def grid_parents() -> dict[int, int | None]:
    """Every grid's id -> its community's id, as :func:`grid_paths` (from the same single read)."""
    from civicgrid.core import tallies

    return tallies.shared("grid parents", lambda: {pk: parent for pk, _path, parent in _grids()})


def _grids() -> list[tuple[int, str, int | None]]:
    from civicgrid.core import tallies

    return tallies.shared("grids", lambda: list(Place.objects.filter(level="grid")
                                                .values_list("id", "path", "parent_id").order_by()))


def grids_under(paths: Iterable[str]) -> QuerySet[Place]:
    """The grids lying under ``paths`` (each a grid or a place above one): their households are those under
    ``paths``."""
    return Place.objects.filter(level="grid").filter(under("path", paths))


def whole_grids(scope: Scope) -> QuerySet[Place] | None:
    """The grids of a scope that sees households only as whole grids (an area role: every household under
    its places, each a grid or above), so that a per-grid tally answers for it; None for any other scope
    (a resident's own household, a volunteer's task households, a place below a grid)."""
    if scope.unrestricted or scope.household_ids or not scope.record_paths:
        return None
    if any(len(parts(p)) > depth("grid") for p in scope.record_paths):
        return None
    return grids_under(scope.record_paths)


def household_counts(*, scope: Scope) -> tuple[int, int, datetime | None] | None:
    """(households, of them vulnerable, when counted) in a scope of whole grids, from the tally the job
    recounts every few minutes (``registry.households``): counting a district's million households took
    120-170 ms per home page (issue 15). None for a scope that is not whole grids (count it live)."""
    from civicgrid.core import tallies
    from civicgrid.registry.crei import HOUSEHOLDS

    require(scope, "households")
    grids = whole_grids(scope)
    if grids is None:
        return None
    cells = tallies.read(HOUSEHOLDS, grids=grids.values("pk"))
    return (int(sum(c["households"] or 0 for c in cells)), int(sum(c["vulnerable"] or 0 for c in cells)),
            tallies.as_of([HOUSEHOLDS]))


def household_list(*, scope: Scope, query: str = "", place: Place | None = None) -> QuerySet[Household]:
    """Households in scope, optionally under a place, matching ``query``: part of a resident's name, an
    address or a code (substring, through civicgrid.core.textsearch's index from three characters on;
    one or two characters over a large area match the start of a name or code only, see
    :func:`short_query_narrowed`); the pinyin initials of a resident's name (``zsf`` for 张三丰, from the
    start); the last four digits of a phone (:func:`phone_suffix_matches`); or a full phone or ID number
    (exact, through their digests)."""
    require(scope, "households")
    households = scoped(Household.objects.select_related("building", "grid"), scope)
    if place is not None:
        households = households.filter(place_path__startswith=place.path)
    query = query.strip()[:SEARCH_MAX_CHARS]  # the API refuses longer; the page reads no more of it
    number = re.sub(r"[\s-]", "", query)  # "138 0013 8000" and "138-0013-8000" are the number too
    if number and EXACT_NUMBER.match(number):
        if id_number_search_refused(scope, query):
            return households.none()
        # A full phone or ID number is an exact match on a keyed digest: two index lookups, then the
        # households by key, so it costs the same at a million households as at a hundred.
        keys = digests(number)  # under every configured key: rows not yet rotated still match
        holders = set(Resident.objects.filter(Q(phone_digest__in=keys) | Q(id_number_digest__in=keys))
                      .values_list("household_id", flat=True))
        holders |= set(Household.objects.filter(contact_phone_digest__in=keys).values_list("id", flat=True))
        households = households.filter(pk__in=sorted(holders))
    elif query:
        households = households.filter(_text_match(households, query))
    return households.order_by("code")


def id_number_search_refused(scope: Scope, query: str) -> bool:
    """A full ID number is searched only for a role with identity clearance. Whoever sees an ID number masked
    also sees the birth date and the places beside it, which leave about 165 candidates for the hidden
    characters (the check digit removes most): a search that answers "found" or "not found" would confirm
    the right one in that many tries and undo the mask. (A full phone leaves 10,000 candidates behind its
    mask and stays searchable: finding a caller by their number is the grid member's daily work.)"""
    number = re.sub(r"[\s-]", "", query.strip())
    return bool(ID_NUMBER.match(number)) and not scope.identity_clearance and not scope.unrestricted


ID_NUMBER = re.compile(r"^[0-9]{17}[0-9Xx]$")
SHORT_QUERY_SCAN_LIMIT = 10_000  # households searched anywhere in their text by a one- or two-character query


def short_query_narrowed(households: QuerySet[Household], query: str) -> bool:
    """Whether a query too short for the trigram indexes (civicgrid.core.textsearch.MIN_LENGTH) falls on
    more than :data:`SHORT_QUERY_SCAN_LIMIT` households (already scoped): then it matches only names and
    codes that start with it (a surname, a two-character name, the start of a code), through b-tree
    indexes, instead of reading every name, address and code of a sub-district or a district. Counting
    stops at the limit, so the check costs the same at a million households."""
    query = query.strip()
    return 0 < len(query) < textsearch.MIN_LENGTH and \
        households.values("pk")[:SHORT_QUERY_SCAN_LIMIT + 1].count() > SHORT_QUERY_SCAN_LIMIT


def search_narrowed(*, scope: Scope, query: str) -> bool:
    """For the page: whether ``query`` was narrowed to starts of names and codes (see above)."""
    return short_query_narrowed(household_list(scope=scope), query)


def _text_match(households: QuerySet[Household], query: str) -> Q:
    """Households whose code, address or a resident's name contains ``query``, or whose resident's pinyin
    initials start with it, or (four digits) whose phone ends with it; see :func:`household_list`."""
    parts: list[textsearch.Match] = []
    if len(query) >= textsearch.MIN_LENGTH:  # through the trigram index / FTS5 table: no table scan
        parts += [textsearch.contains(HOUSEHOLD_TEXT, query, select="id"),
                  textsearch.contains(RESIDENT_TEXT, query, select="household_id")]
        match = Q()
    elif short_query_narrowed(households, query):
        parts += [textsearch.starts("registry_resident", "name", query, select="household_id")]
        parts += [textsearch.starts("registry_household", "code", code, select="id")
                  for code in dict.fromkeys((query, query.upper()))]
        match = Q()
    else:  # a short query in a small area: read its households (scope and place narrowed them), each once
        match = (Q(code__icontains=query) | Q(address__icontains=query)
                 | Q(Exists(Resident.objects.filter(household=OuterRef("pk"), name__icontains=query))))
    initials = name_initials(query) if query.isascii() and query.replace(" ", "").isalpha() else ""
    if len(initials) >= 2:
        parts.append(textsearch.starts("registry_resident", "name_initials", initials, select="household_id"))
    if parts:
        match |= Q(pk__in=textsearch.any_of(parts))
    if PHONE_SUFFIX.match(query):
        match |= Q(pk__in=phone_suffix_matches(households, query) or [])
    return match


PHONE_SUFFIX = re.compile(r"^[0-9]{4}$")
# a mainland mobile number or a resident ID number (18 characters, the last a digit or X), typed whole
EXACT_NUMBER = re.compile(r"^(1[0-9]{10}|[0-9]{17}[0-9Xx])$")


def phone_suffix_matches(households: QuerySet[Household], suffix: str) -> list[int] | None:
    """The ids of ``households`` (already scoped) whose contact phone or a resident's phone ends with
    ``suffix`` (four digits); None when there are more than :data:`PHONE_SUFFIX_LIMIT` phones to look at
    (the caller asks the user to open a grid or building first).

    Why phones are decrypted here rather than matched against a stored digest of their last four digits:
    such a digest has only 10,000 possible values, so anyone holding the digests and the key recovers
    every suffix by trying them all, and even without the key equal digests show which households share
    a suffix; a per-household keyed digest avoids the second leak but costs as much to search as this.
    So nothing new is stored. The search only ever decrypts phones of households inside the user's own
    scope (a queryset that went through ``scoped()``), never more than the limit, and the last four
    digits it matches are what every role already sees in the masked phone (``138****5678``): it
    reveals nothing the user could not read on the page.
    """
    if phone_suffix_too_many(households):
        return None
    with_phone, resident_phones = _phones(households)
    found = {hid for hid, phone in with_phone if phone.endswith(suffix)}
    found |= {hid for hid, phone in resident_phones if phone.endswith(suffix)}
    return sorted(found)


def _phones(households: QuerySet[Household]) -> tuple[QuerySet[Any], QuerySet[Any]]:
    return (households.exclude(contact_phone_digest="").values_list("id", "contact_phone"),
            Resident.objects.filter(household__in=households.values("id")).exclude(phone_digest="")
            .values_list("household_id", "phone"))


def phone_suffix_too_many(households: QuerySet[Household]) -> bool:
    """More phones among these (scoped) households than one last-four-digits search decrypts."""
    with_phone, resident_phones = _phones(households)
    return with_phone.count() + resident_phones.count() > PHONE_SUFFIX_LIMIT


def household_suggestions(*, scope: Scope, query: str, limit: int = 8) -> list[dict[str, Any]]:
    """A few matches for the search box as the user types: code, address and the residents' names
    (names only: what the household list shows)."""
    if len(query.strip()) < 2:
        return []
    households = list(household_list(scope=scope, query=query)[:limit])
    names: dict[int, list[str]] = {}
    if scope.may("residents"):
        for household_id, name in scoped(Resident.objects.filter(household__in=households), scope) \
                .values_list("household_id", "name"):
            names.setdefault(household_id, []).append(name)
    return [{"id": h.id, "code": h.code, "address": h.address, "names": names.get(h.id, [])[:4]}
            for h in households]


def household_get(*, scope: Scope, household_id: int) -> Household:
    require(scope, "households")
    return scoped(Household.objects.select_related("building", "grid"), scope).get(pk=household_id)


def resident_list(*, scope: Scope, household: Household | None = None) -> QuerySet[Resident]:
    require(scope, "residents")
    residents = scoped(Resident.objects.select_related("household"), scope)
    return residents.filter(household=household) if household is not None else residents


def resident_get(*, scope: Scope, resident_id: int) -> Resident:
    require(scope, "residents")
    return scoped(Resident.objects.select_related("household"), scope).get(pk=resident_id)


def actor_list(*, scope: Scope, sector: str = "") -> QuerySet[Actor]:
    require(scope, "actors")
    actors = scoped(Actor.objects.select_related("service_area"), scope).annotate(
        n_posts=Count("posts")).order_by("code", "id")  # grouped, the model's order is not kept: pages need one
    return actors.filter(sector=sector) if sector else actors


def actor_get(*, scope: Scope, actor_id: int) -> Actor:
    require(scope, "actors")
    return scoped(Actor.objects.select_related("service_area"), scope).get(pk=actor_id)


def actor_posts(*, scope: Scope, actor: Actor) -> list[dict[str, Any]]:
    """The actor's posts, each with the other actors its holder also serves (cross-posts: seed 001's
    'fusion' of state, capital and society shows here)."""
    posts = list(scoped(Post.objects.select_related("person", "place"), scope).filter(actor=actor))
    others: dict[int, list[Post]] = {}
    for other in Post.objects.filter(person_id__in={p.person_id for p in posts}).exclude(actor=actor) \
            .select_related("actor"):
        others.setdefault(other.person_id, []).append(other)
    return [{"post": p, "also": others.get(p.person_id, [])} for p in posts]


def person_list(*, scope: Scope) -> QuerySet[Person]:
    require(scope, "people")
    return scoped(Person.objects.all(), scope)


def person_get(*, scope: Scope, person_id: int) -> Person:
    require(scope, "people")
    return scoped(Person.objects.all(), scope).get(pk=person_id)


def audit_list(*, scope: Scope, event: str = "", user_id: int | None = None, place: str = "",
               since: date | None = None, until: date | None = None) -> QuerySet[AuditLog]:
    """Audit rows in scope, newest first, narrowed by event, acting user, place (a path prefix: only
    narrows, never widens the scope) and date range (inclusive, in the site's time zone)."""
    require(scope, "audit")
    rows = scoped(AuditLog.objects.select_related("user"), scope)
    if event:
        rows = rows.filter(event=event)
    if user_id is not None:
        rows = rows.filter(user_id=user_id)
    if place:
        rows = rows.filter(place_path__startswith=place)
    if since is not None:
        rows = rows.filter(at__date__gte=since)
    if until is not None:
        rows = rows.filter(at__date__lte=until)
    return rows.order_by("-at", "-seq")


def audit_users(*, scope: Scope) -> list[tuple[int, str]]:
    """The users who acted in the audit rows in scope (for the page's filter)."""
    rows = audit_list(scope=scope).exclude(user=None).order_by()
    return sorted(set(rows.values_list("user_id", "user__username")), key=lambda u: u[1])


def audit_places(*, scope: Scope) -> list[tuple[str, str]]:
    """(path, name) of the places in scope down to grids, for the page's place filter."""
    require(scope, "audit")
    places = scoped(Place.objects.all(), scope).filter(level__in=("district", "subdistrict", "community", "grid"))
    return [(p.path, f"{p.name} ({p.code})") for p in places.order_by("path")]


# Roles that see a household as a delivery or a visit needs it (who, where, how to reach them), never its
# income status (dibao, tekun), vulnerability score or the residents' health facts.
NEED_TO_KNOW_ROLES = frozenset({"volunteer"})


def sees_welfare_and_health(scope: Scope) -> bool:
    """May this scope see income status, vulnerability and health facts? (Privacy by need, issue 10 §5.)"""
    return scope.role not in NEED_TO_KNOW_ROLES


def show_identity(scope: Scope, value: str) -> str:
    """An ID number or phone as this scope may see it."""
    return value if scope.identity_clearance else mask(value)


def show_birth_date(scope: Scope, value: date) -> str:
    """A birth date as this scope may see it: in full with clearance, else nothing (the age in years is
    shown instead). The birth date is 8 of the 14 hidden characters of a masked ID number, so showing it
    beside the mask would let the number be rebuilt from the region code and the check character."""
    return value.isoformat() if scope.identity_clearance else ""


# Fields of audited records that, beside a masked ID number, would help rebuild it.
_IDENTITY_ADJACENT = ("birth_date",)


def show_audit_values(scope: Scope, values: dict[str, Any] | None) -> dict[str, Any] | None:
    """An audit row's old or new values as this scope may see them (birth dates hidden without clearance;
    ID numbers and phones are masked in the log itself)."""
    if values is None or scope.identity_clearance:
        return values
    return {k: ("****-**-**" if k in _IDENTITY_ADJACENT and v else v) for k, v in values.items()}


class LazyRows:
    """One table's rows, read from the database in chunks as they are iterated (an export of a whole
    district never holds it in memory); ``len()`` counts them with one query. ``first`` rows, already
    made, come before the query's."""

    def __init__(self, queryset: QuerySet[Any], to_row: Callable[[Any], list[Any]], *,
                 first: Sequence[list[Any]] = ()) -> None:
        self.queryset, self.to_row, self.first = queryset, to_row, first

    def __iter__(self) -> Iterator[list[Any]]:
        yield from self.first
        yield from (self.to_row(obj) for obj in self.queryset.iterator(chunk_size=EXPORT_CHUNK))

    def __len__(self) -> int:
        return len(self.first) + self.queryset.count()


EXPORT_CHUNK = 2_000


def registry_tables(*, scope: Scope) -> dict[str, tuple[tuple[str, ...], Any]]:
    """Everything in scope, in the exchange format (civicgrid.engine.registry_format), identities
    masked for roles without clearance. The large tables are :class:`LazyRows`: iterate them once."""
    require(scope, "export")
    places = scoped(Place.objects.all(), scope)
    households = scoped(Household.objects.select_related("building"), scope).order_by("code")
    residents = scoped(Resident.objects.select_related("household"), scope).order_by("code")
    actors = scoped(Actor.objects.select_related("service_area"), scope)
    # a person's resident code is exported only when that resident is in scope too
    people = scoped(Person.objects.select_related("resident"), scope).annotate(
        resident_shown=Exists(scoped(Resident.objects.filter(pk=OuterRef("resident_id")), scope)))
    posts = scoped(Post.objects.select_related("person", "actor", "place"), scope)
    show = lambda value: show_identity(scope, value)  # noqa: E731
    def flag(value: bool) -> int:
        return int(bool(value))

    place_columns = ("code", "name", "level", "parent__code", "geometry")
    def place_row(values: tuple[Any, ...]) -> list[Any]:
        code, name, level, parent, geometry = values
        return [code, name, level, parent or "", json.dumps(geometry, ensure_ascii=False) if geometry else ""]

    ancestors: list[list[Any]] = []
    if not scope.unrestricted:  # the ancestors of the scope first, so the export re-imports on its own
        above = scope.actor_area_paths() - set(scope.area_paths)
        ancestors = [place_row(v) for v in Place.objects.filter(path__in=above).order_by("path")
                     .values_list(*place_columns)]
        places = places.exclude(path__in=above)
    return {
        # a parent's path is a prefix of its children's: by path, every place comes after its parent
        "places": (TABLES["places"], LazyRows(places.order_by("path").values_list(*place_columns), place_row,
                                              first=ancestors)),
        "households": (TABLES["households"], LazyRows(households, lambda h: [
            h.code, h.building.code, h.address, h.housing_type, h.income_status, show(h.contact_phone)])),
        "residents": (TABLES["residents"], LazyRows(residents, lambda r: [
            r.code, r.household.code, r.name, r.sex, show_birth_date(scope, r.birth_date), r.relation,
            show(r.id_number), show(r.phone), flag(r.lives_alone), r.disability_kind, r.disability_grade or "",
            flag(r.chronic_illness), flag(r.pregnant), flag(r.limited_mobility), flag(r.language_barrier),
            flag(r.mental_health_needs)])),
        "actors": (TABLES["actors"], [
            [a.code, a.name, a.sector, a.kind, a.service_area.code,
             json.dumps(a.capacities) if a.capacities else "", a.contact_phone] for a in actors]),
        "people": (TABLES["people"], LazyRows(people, lambda p: [
            p.code, p.name, show(p.phone), p.resident.code if p.resident and p.resident_shown else ""])),
        "posts": (TABLES["posts"], LazyRows(posts, lambda p: [
            p.person.code, p.actor.code, p.role, flag(p.is_key), p.place.code if p.place else ""])),
    }

