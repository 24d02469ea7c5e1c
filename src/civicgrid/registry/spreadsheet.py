"""The registry's exchange format as people read it in a spreadsheet: sheet names, column headers and
choice values in the user's language (Chinese: 住户, 户号, 男/女, 低保 ...).

One vocabulary, used both ways:

* the importer accepts the codes (``households``, ``income_status``, ``dibao``) **and** the labels in
  every site language (``住户``, ``收入状况``, ``低保``; ``Households``, ``Income status``, ``Minimum living
  allowance (dibao)``): :func:`header_aliases` for sheets and columns, :func:`value_codes` for values;
* the XLSX template and the XLSX export write the labels of the active language
  (:func:`localised_tables`), so what a director downloads imports back unchanged.

Choice values come from the models' own ``choices`` (one mapping: a new choice or a changed label needs
no change here); booleans read ``1/0``, ``是/否``, ``yes/no``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import pgettext, pgettext_lazy

from civicgrid.engine import registry_format as fmt
from civicgrid.registry.models import Actor, Household, Person, Place, Post, Resident

Table = tuple[tuple[str, ...], Any]  # (header, rows): rows a list, or lazy for a streamed export


# Short forms people write for a label, read as the same code (the labels themselves come from the models).
SYNONYMS: dict[tuple[str, str], dict[str, str]] = {
    ("households", "income_status"): {"特困": "tekun", "特困人员": "tekun", "低保户": "dibao", "低收入户": "low_income"},
}

MODELS: dict[str, type[models.Model]] = {"places": Place, "households": Household, "residents": Resident,
                                         "actors": Actor, "people": Person, "posts": Post}

# Sheet and column names, in the context "spreadsheet" (a header is not a form label).
TABLE_LABELS: dict[str, Promise] = {
    "places": pgettext_lazy("spreadsheet", "Places"),
    "households": pgettext_lazy("spreadsheet", "Households"),
    "residents": pgettext_lazy("spreadsheet", "Residents"),
    "actors": pgettext_lazy("spreadsheet", "Actors"),
    "people": pgettext_lazy("spreadsheet", "People"),
    "posts": pgettext_lazy("spreadsheet", "Posts"),
}

COLUMN_LABELS: dict[str, dict[str, Promise]] = {
    "places": {
        "code": pgettext_lazy("spreadsheet", "Place code"),
        "name": pgettext_lazy("spreadsheet", "Place name"),
        "level": pgettext_lazy("spreadsheet", "Level"),
        "parent_code": pgettext_lazy("spreadsheet", "Parent place code"),
        "geometry": pgettext_lazy("spreadsheet", "Geometry (GeoJSON)"),
    },
    "households": {
        "code": pgettext_lazy("spreadsheet", "Household code"),
        "building_code": pgettext_lazy("spreadsheet", "Building code"),
        "address": pgettext_lazy("spreadsheet", "Address"),
        "housing_type": pgettext_lazy("spreadsheet", "Housing type"),
        "income_status": pgettext_lazy("spreadsheet", "Income status"),
        "contact_phone": pgettext_lazy("spreadsheet", "Contact phone"),
    },
    "residents": {
        "code": pgettext_lazy("spreadsheet", "Resident code"),
        "household_code": pgettext_lazy("spreadsheet", "Household code"),
        "name": pgettext_lazy("spreadsheet", "Name"),
        "sex": pgettext_lazy("spreadsheet", "Sex"),
        "birth_date": pgettext_lazy("spreadsheet", "Birth date"),
        "relation": pgettext_lazy("spreadsheet", "Relation to head"),
        "id_number": pgettext_lazy("spreadsheet", "National ID number"),
        "phone": pgettext_lazy("spreadsheet", "Phone"),
        "lives_alone": pgettext_lazy("spreadsheet", "Lives alone"),
        "disability_kind": pgettext_lazy("spreadsheet", "Disability kind"),
        "disability_grade": pgettext_lazy("spreadsheet", "Disability grade (1-4)"),
        "chronic_illness": pgettext_lazy("spreadsheet", "Chronic illness"),
        "pregnant": pgettext_lazy("spreadsheet", "Pregnant"),
        "limited_mobility": pgettext_lazy("spreadsheet", "Limited mobility"),
        "language_barrier": pgettext_lazy("spreadsheet", "Language barrier"),
        "mental_health_needs": pgettext_lazy("spreadsheet", "Mental-health needs"),
    },
    "actors": {
        "code": pgettext_lazy("spreadsheet", "Actor code"),
        "name": pgettext_lazy("spreadsheet", "Actor name"),
        "sector": pgettext_lazy("spreadsheet", "Sector"),
        "kind": pgettext_lazy("spreadsheet", "Kind"),
        "service_area_code": pgettext_lazy("spreadsheet", "Service area code"),
        "capacities": pgettext_lazy("spreadsheet", "Capacities (JSON)"),
        "contact_phone": pgettext_lazy("spreadsheet", "Contact phone"),
    },
    "people": {
        "code": pgettext_lazy("spreadsheet", "Person code"),
        "name": pgettext_lazy("spreadsheet", "Name"),
        "phone": pgettext_lazy("spreadsheet", "Phone"),
        "resident_code": pgettext_lazy("spreadsheet", "Resident code"),
    },
    "posts": {
        "person_code": pgettext_lazy("spreadsheet", "Person code"),
        "actor_code": pgettext_lazy("spreadsheet", "Actor code"),
        "role": pgettext_lazy("spreadsheet", "Role"),
        "is_key": pgettext_lazy("spreadsheet", "Key post"),
        "place_code": pgettext_lazy("spreadsheet", "Place code"),
    },
}


def _languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


@lru_cache(maxsize=1)
def header_aliases() -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """(sheet label -> table, {table: {column label -> column}}) over every site language."""
    tables: dict[str, str] = {}
    columns: dict[str, dict[str, str]] = {t: {} for t in fmt.TABLES}
    for language in _languages():
        with translation.override(language):
            for table, label in TABLE_LABELS.items():
                tables[str(label)] = table
            for table, labels in COLUMN_LABELS.items():
                for column, label in labels.items():
                    columns[table][str(label)] = column
    return tables, columns


def choice_field(table: str, column: str) -> models.Field | None:
    """The model field behind a column when it has choices (``residents.sex``, ``households.income_status``)."""
    try:
        field = MODELS[table]._meta.get_field(column)
    except FieldDoesNotExist:
        return None
    return field if getattr(field, "choices", None) else None  # type: ignore[return-value]


@lru_cache(maxsize=1)
def value_codes() -> dict[tuple[str, str], dict[str, str]]:
    """{(table, column): {label in any site language -> code}} for every column backed by model choices."""
    out: dict[tuple[str, str], dict[str, str]] = {}
    for table, columns in fmt.TABLES.items():
        for column in columns:
            field = choice_field(table, column)
            if field is None:
                continue
            mapping: dict[str, str] = {}
            for language in _languages():
                with translation.override(language):
                    for code, label in field.choices or ():
                        mapping[str(label)] = str(code)
                        mapping[str(label).lower()] = str(code)
            out[(table, column)] = {**mapping, **SYNONYMS.get((table, column), {})}
    return out


def decode_values(tables: Mapping[str, list[dict[str, str]]]) -> None:
    """Replace choice labels by their codes, in place (a code stays a code). Called by the importer,
    once, before any check."""
    for table, rows in tables.items():
        decode = row_decoder(table)
        for row in rows:
            decode(row)


def row_decoder(table: str) -> Callable[[dict[str, str]], None]:
    """:func:`decode_values` for one row of ``table`` at a time (a streamed import)."""
    mappings = [(column, mapping) for (t, column), mapping in value_codes().items() if t == table]

    def decode(row: dict[str, str]) -> None:
        for column, mapping in mappings:
            value = row.get(column)
            if value:
                row[column] = mapping.get(value, mapping.get(value.lower(), value))

    return decode


def column_decoder(table: str) -> Callable[[str, list[str]], list[int]]:
    """:func:`row_decoder` for one column of many rows at once (a column-wise import): decodes ``values`` of
    ``column`` in place, each distinct value looked up once; returns the positions it changed."""
    mappings = {column: mapping for (t, column), mapping in value_codes().items() if t == table}

    def decode(column: str, values: list[str]) -> list[int]:
        mapping = mappings.get(column)
        if mapping is None:
            return []
        codes = {v: mapping.get(v, mapping.get(v.lower(), v)) for v in set(values) if v}
        changed = {v: code for v, code in codes.items() if code != v}
        if not changed:
            return []
        at = [i for i, v in enumerate(values) if v in changed]
        for i in at:
            values[i] = changed[values[i]]
        return at

    return decode


def localised_tables(tables: Mapping[str, Table]) -> dict[str, Table]:
    """The exchange tables with sheet names, headers, choice values and booleans in the active
    language (the XLSX template and export). Codes stay as they are in any other column."""
    out: dict[str, Table] = {}
    yes, no = pgettext("spreadsheet", "Yes"), pgettext("spreadsheet", "No")
    for table, (header, rows) in tables.items():
        labels: list[dict[str, str] | None] = []
        for column in header:
            field = choice_field(table, column)
            labels.append({str(code): str(label) for code, label in field.choices or ()} if field else None)
        booleans = [column in fmt.BOOLEAN_COLUMNS for column in header]
        out[str(TABLE_LABELS[table])] = (tuple(str(COLUMN_LABELS[table][c]) for c in header),
                                         _localised_rows(rows, labels, booleans, yes=yes, no=no))
    return out


def _localised_rows(rows: Iterable[Any], labels: list[dict[str, str] | None], booleans: list[bool], *,
                    yes: str, no: str) -> Iterator[list[Any]]:
    """Rows as they are read (an export is streamed: nothing is held)."""
    for row in rows:
        cells = []
        for value, mapping, boolean in zip(row, labels, booleans, strict=True):
            if mapping is not None and value not in (None, ""):
                value = mapping.get(str(value), value)
            elif boolean and value not in (None, ""):
                value = yes if str(value) in {"1", "True", "true"} else no
            cells.append(value)
        yield cells


def template_tables() -> dict[str, Table]:
    """The empty workbook a director fills in: every table, headers only, in the active language."""
    return localised_tables({table: (columns, []) for table, columns in fmt.TABLES.items()})
