"""A registry import of new records, streamed (issue 15: a district of a million households).

:func:`import_new` reads each table once, row by row (from :func:`civicgrid.core.importing.stream_tables`
or from lists), checks every row as :mod:`civicgrid.registry.importer` does (the same per-row functions,
the same messages), and writes the rows of the big tables (households, residents, people, posts) as it
goes with the database's bulk path (:func:`civicgrid.core.bulk.copy_rows`: ``COPY`` on PostgreSQL),
in the caller's transaction. All or nothing still holds: once a bad row is found nothing more is
written, every later row is still checked, and the caller's transaction is rolled back by the
:class:`~civicgrid.core.importing.ImportRejected` raised at the end with the report (the first rows of
it, every bad row counted).

The two big tables (households, residents) are read :data:`~civicgrid.registry.bulkrun.BATCH` rows at a time
as columns, and each chunk is cleared column by column (:mod:`civicgrid.registry.fastcheck`: a pass per column
instead of a call per value); a row it does not clear (a bad value, or a good one in another form: ``是``,
``男``, a space) goes through the importer's per-row checks, in file order, then the chunk's checks against the
database as one batch, as always: the report is the per-row path's, row for row and message for message
(``tests/platform/test_import_fastcheck.py``). Python's cyclic collector is paused meanwhile
(:func:`civicgrid.core.bulk.collector_paused`).

Memory stays bounded by what must be remembered across rows, not by the file: the codes seen (for
duplicates and references), the ID numbers seen, and a few small numbers per resident for the
households' vulnerability scores. Households are written last, from a spool file, once their scores
are known (residents may be written first: the foreign key is checked at commit).

A first load into an empty registry on PostgreSQL (the households' and residents' tables hold no row and
nobody is reading them) builds those tables' indexes and the residents' foreign key after the rows are in
(:func:`civicgrid.core.loadindexes.built_after`: the tables are locked until the import commits); the
ID numbers and codes already written are then found in memory rather than through the (not yet built)
indexes, and the new rows' keys are counted on from their sequences (``IdBlock(exclusive=True)``), so the
check loop sends no query while the rows stream to the server: the same rows, the same report.

This module drives the passes and writes the small tables; the rest is apart, each read at once:
:mod:`civicgrid.registry.bulkrun` (the run's bookkeeping: report, digest, chunks),
:mod:`civicgrid.registry.bulkhouseholds` and :mod:`civicgrid.registry.bulkresidents` (the two big tables'
passes, and the households' scores).

The audit is one summarising event (the bulk rule of :mod:`civicgrid.core.audit`): the counts, a
digest of every new record's id and a SHA-256 of the rows as read (``input_sha256``: each table's name,
then each row's cells in the file's column order, tab-separated, one line per row; the same for a CSV,
ZIP or XLSX of the same content).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from civicgrid.core import audit
from civicgrid.core.bulk import CopyWriter, IdBlock, collector_paused, copy_rows, mapping_in
from civicgrid.core.crypto import encrypt_many
from civicgrid.core.importing import ImportRejected
from civicgrid.core.loadindexes import built_after
from civicgrid.core.places import common_ancestor
from civicgrid.core.scoping import Scope
from civicgrid.engine import registry_format as fmt
from civicgrid.registry import bulkhouseholds, bulkresidents, importer, roster
from civicgrid.registry.bulkrun import ImportRun
from civicgrid.registry.events import RegistryEvent
from civicgrid.registry.models import Actor, Household, Person, Place, Post, Resident


def import_new(*, user: Any, scope: Scope, tables: Mapping[str, Iterable[dict[str, str]]]) -> dict[str, int]:
    """Check and write every row of ``tables`` as new records; raise ImportRejected (the caller's
    transaction then writes nothing) with every bad row, or with every row outside the importer's area
    when all rows are valid. Returns the rows created per table."""
    run = ImportRun(scope)
    # a first load into an empty registry: its indexes built after the rows are in (core.loadindexes)
    with collector_paused(), built_after([Household, Resident]) as run.first_load:
        cleaned, places = _check_and_write(run, scope, tables)
    run.ids["Household"] = np.frombuffer(run.household_ids, dtype=np.int64)
    _write_others(run, cleaned, places)
    if run.existing_households:
        from civicgrid.registry.services import household_vulnerability_refresh

        household_vulnerability_refresh(household_ids=run.existing_households)
    counts = {table: len(getattr(cleaned, table)) if table in ("places", "actors", "people", "posts")
              else run.counts[table] for table in fmt.TABLES}
    audit.record_bulk(user=user, event=RegistryEvent.REGISTRY_IMPORTED, model=Household, ids=[],
                      id_groups={name: np.asarray(ids, dtype=np.int64) for name, ids in run.ids.items()},
                      counts={**counts, "input_sha256": run.digest.hexdigest()},
                      place_path=common_ancestor(sorted(run.paths)) or scope.place_path(),
                      summary="")
    return counts


def _check_and_write(run: ImportRun, scope: Scope, tables: Mapping[str, Iterable[dict[str, str]]]
                     ) -> tuple[importer.Cleaned, dict[str, Place]]:
    """Every row checked (ImportRejected with the report if one is bad), then the places, residents and
    households written; returns the cleaned small tables and the places by code, for the rest."""
    places_before = _all_places()
    place_rows = [row for _n, row in run.rows(tables, "places")]
    cleaned = importer.Cleaned()
    levels = importer._places(place_rows, run.errors, cleaned)  # noqa: SLF001 - the importer's own check
    places = dict(places_before)
    if run.writing:
        created = create_places(cleaned.places, places)
        run.ids["Place"] = [p.pk for p in created]
        run.paths.update(p.path for p in created)
    run.counts["places"] = len(cleaned.places)
    spool, income = bulkhouseholds.check_households(run, tables, levels, places)
    with CopyWriter() as run.writer:
        facts = bulkresidents.check_and_write_residents(run, tables)
    run.household_index, run.household_codes = {}, {}  # no later table refers to households
    scores = bulkresidents.household_scores(facts, income) if facts is not None else None
    del income, facts
    actor_rows = [row for _n, row in run.rows(tables, "actors")]
    cleaned.actors = []
    actor_codes = importer._actors(actor_rows, run.errors, cleaned, levels)  # noqa: SLF001
    people_rows = [row for _n, row in run.rows(tables, "people")]
    referenced = {r["resident_code"] for r in people_rows if r["resident_code"]}
    # the residents written so far are in the database; the file's codes are kept only once a row was bad
    known_residents = set(mapping_in(Resident.objects.all(), field="code", values=referenced, key="code", value="id"))
    known_residents |= referenced & run.resident_codes
    person_codes = importer._people(people_rows, run.errors, cleaned, known_residents)  # noqa: SLF001
    run.resident_codes = set()
    post_rows = [row for _n, row in run.rows(tables, "posts")]
    importer._posts(post_rows, run.errors, cleaned, person_codes, actor_codes, levels)  # noqa: SLF001
    if not scope.unrestricted:
        try:
            roster.refuse_outside(scope, {"places": place_rows, "actors": actor_rows, "posts": post_rows}, cleaned,
                                  places_before)
        except ImportRejected as refused:
            run.outside.extend(refused.errors)
            run.outside.total += refused.total - len(refused.errors)
    if run.errors.total:
        raise ImportRejected(list(run.errors), total=run.errors.total)
    if run.outside.total:
        raise ImportRejected(list(run.outside), total=run.outside.total)
    with CopyWriter() as run.writer:
        bulkhouseholds.write_households(run, spool, scores)
    return cleaned, places


def _all_places() -> dict[str, Place]:
    return {p.code: p for p in Place.objects.all().only("id", "code", "path", "level", "parent_id")}


def create_places(rows: list[dict[str, Any]], places: dict[str, Place]) -> list[Place]:
    """Create the checked place rows level by level (a parent before its children); ``places`` (code ->
    place) gains them. Returns the new places."""
    created: list[Place] = []
    for level in fmt.PLACE_LEVELS:
        batch = []
        for row in (r for r in rows if r["level"] == level):
            parent = places.get(row["parent_code"]) if row["parent_code"] else None
            batch.append(Place(code=row["code"], name=row["name"], level=level, parent=parent,
                               geometry=row["geometry"], path=(parent.path if parent else "") + row["code"] + "/"))
        for place in Place.objects.bulk_create(batch, batch_size=2000):
            places[place.code] = place
            created.append(place)
    return created


def _write_others(run: ImportRun, cleaned: importer.Cleaned, places: dict[str, Place]) -> None:
    """Actors (few: through the ORM), people and posts (one per volunteer: the bulk path)."""
    actors = Actor.objects.bulk_create(
        [Actor(code=r["code"], name=r["name"], sector=r["sector"], kind=r["kind"],
               service_area=places[r["service_area_code"]], capacities=r["capacities"],
               contact_phone=r["contact_phone"]) for r in cleaned.actors], batch_size=2000)
    run.ids["Actor"] = [a.pk for a in actors]
    run.paths.update(places[r["service_area_code"]].path for r in cleaned.actors)
    residents = mapping_in(Resident.objects.all(), field="code", key="code", value="id",
                           values=(r["resident_code"] for r in cleaned.people if r["resident_code"]))
    person_ids = IdBlock(Person).take(len(cleaned.people))
    phones = encrypt_many([r["phone"] for r in cleaned.people])
    copy_rows(Person, ["id", "code", "name", "phone", "phone_digest", "resident_id"],
              ((pk, r["code"], r["name"], phone, run.keyed(r["phone"]), residents.get(r["resident_code"]))
               for pk, r, phone in zip(person_ids, cleaned.people, phones, strict=True)))
    run.ids["Person"] = person_ids
    people = mapping_in(Person.objects.all(), field="code", key="code", value="id",
                        values={r["person_code"] for r in cleaned.posts})
    actor_ids = mapping_in(Actor.objects.all(), field="code", key="code", value="id",
                           values={r["actor_code"] for r in cleaned.posts})
    post_ids = IdBlock(Post).take(len(cleaned.posts))
    copy_rows(Post, ["id", "person_id", "actor_id", "role", "is_key", "place_id"],
              ((pk, people[r["person_code"]], actor_ids[r["actor_code"]], r["role"], r["is_key"],
                places[r["place_code"]].pk if r["place_code"] else None)
               for pk, r in zip(post_ids, cleaned.posts, strict=True)))
    run.ids["Post"] = post_ids
