"""The emergency plan document: what a plan template holds, and its validation.

A plan is a mapping (shipped as YAML under emergency/data/plans/, edited as YAML in the browser)::

    code: epidemic_lockdown          hazard: epidemic          default_level: II
    name: {en: ..., zh: ...}
    command_structure:               # who leads: seed 000 4.1, "leading group and headquarters"
      - {key: leading_group, name: {en, zh}, actor_kinds: [party_committee]}
      - {key: grid_teams, name: {en, zh}, actor_kinds: [residents_committee], per_grid: true}
    tasks:
      - {key: set_up_headquarters, unit: headquarters, title: {en, zh}, due_hours: 2}
      - {key: door_to_door, unit: grid_teams, title: {en, zh}, due_hours: 24, per_grid: true}
    checklists: [gate_eight_piece_set, ...]
    stock_targets:
      - {key: masks, name: {en, zh}, unit: {en, zh}, per_household: 10, per_vulnerable_household: 5}
    alert_texts:
      opening: {headline: {en, zh}, description: {en, zh}, instruction: {en, zh}}
      closing: {headline: {en, zh}, description: {en, zh}, instruction: {en, zh}}
    cap: {category: Health, event: {en, zh}, urgency: Immediate, certainty: Observed}

:func:`validate_plan` returns the cleaned document or raises :class:`PlanFormatError` listing every
problem with its place in the document (``tasks[2].unit: ...``). Pure Python: no Django.

>>> doc = validate_plan(load_yaml((DATA_DIR / "plans" / "epidemic_lockdown.yaml").read_text(encoding="utf-8")))
>>> doc["hazard"], doc["default_level"]
('epidemic', 'II')
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

DATA_DIR = Path(__file__).resolve().parent / "data"
SHIPPED_PLANS = sorted((DATA_DIR / "plans").glob("*.yaml"))
CHECKLISTS_FILE = DATA_DIR / "checklists.yaml"
HAZARDS = ("epidemic", "earthquake", "flood", "fire", "other")
LEVELS = ("I", "II", "III", "IV")
ACTOR_KINDS = ("party_committee", "subdistrict_office", "government_department", "residents_committee",
               "property_management", "enterprise", "shop", "social_organisation", "foundation",
               "volunteer_team", "resident_self_organisation")
CAP_CATEGORIES = ("Geo", "Met", "Safety", "Security", "Rescue", "Fire", "Health", "Env", "Transport", "Infra",
                  "CBRNE", "Other")
CAP_URGENCY = ("Immediate", "Expected", "Future", "Past", "Unknown")
CAP_CERTAINTY = ("Observed", "Likely", "Possible", "Unlikely", "Unknown")


class PlanFormatError(ValueError):
    """A plan document with problems; ``problems`` lists each one with its place in the document."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def load_yaml(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PlanFormatError([f"not valid YAML: {exc}"]) from None


def dump_yaml(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100)


class _Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def mapping(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(where, "must be a mapping")
            return {}
        return value

    def items(self, value: Any, where: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail(where, "must be a list")
            return []
        return value

    def text(self, value: Any, where: str) -> dict[str, str]:
        """Bilingual text {en, zh}: at least one language filled."""
        value = self.mapping(value, where)
        out = {lang: str(value.get(lang) or "").strip() for lang in ("en", "zh")}
        if value and not (out["en"] or out["zh"]):
            self.fail(where, "needs an English (en) or Chinese (zh) text")
        extra = set(value) - {"en", "zh"}
        if extra:
            self.fail(where, f"unknown languages {sorted(extra)} (use en and zh)")
        return out

    def key(self, value: Any, where: str, seen: set[str]) -> str:
        key = str(value or "")
        if not key or not key.replace("_", "").isalnum() or not key.isascii():
            self.fail(where, f"{value!r} is not a key (letters, digits and _)")
        elif key in seen:
            self.fail(where, f"{key!r} is used twice")
        seen.add(key)
        return key

    def choice(self, value: Any, where: str, options: tuple[str, ...]) -> str:
        if value not in options:
            self.fail(where, f"{value!r} is not one of {', '.join(options)}")
        return str(value)

    def number(self, value: Any, where: str, *, positive: bool = False) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(where, f"{value!r} is not a number")
            return 0.0
        if value < 0 or (positive and value == 0):
            self.fail(where, f"{value!r} must be {'above' if positive else 'at least'} 0")
        return float(value)


def validate_plan(document: Any, *, checklist_codes: set[str] | None = None) -> dict[str, Any]:
    """The cleaned plan document, or PlanFormatError naming every problem. With ``checklist_codes``
    the checklists it names must exist."""
    c = _Checker()
    doc = c.mapping(document, "plan")
    out: dict[str, Any] = {
        "code": c.key(doc.get("code"), "code", set()),
        "hazard": c.choice(doc.get("hazard"), "hazard", HAZARDS),
        "default_level": c.choice(str(doc.get("default_level", "")), "default_level", LEVELS),
        "name": c.text(doc.get("name"), "name"),
    }
    units: set[str] = set()
    out["command_structure"] = []
    for i, raw in enumerate(c.items(doc.get("command_structure"), "command_structure")):
        where = f"command_structure[{i}]"
        unit = c.mapping(raw, where)
        kinds = [c.choice(k, f"{where}.actor_kinds", ACTOR_KINDS) for k in c.items(unit.get("actor_kinds"),
                                                                                   f"{where}.actor_kinds")]
        if not kinds:
            c.fail(f"{where}.actor_kinds", "name at least one kind of actor")
        out["command_structure"].append({"key": c.key(unit.get("key"), f"{where}.key", units),
                                         "name": c.text(unit.get("name"), f"{where}.name"),
                                         "actor_kinds": kinds, "per_grid": bool(unit.get("per_grid", False))})
    if not units:
        c.fail("command_structure", "a plan needs at least one unit")
    out["tasks"] = []
    task_keys: set[str] = set()
    for i, raw in enumerate(c.items(doc.get("tasks"), "tasks")):
        where = f"tasks[{i}]"
        task = c.mapping(raw, where)
        unit_key = str(task.get("unit") or "")
        if unit_key not in units:
            c.fail(f"{where}.unit", f"{unit_key!r} is not a unit of the command structure")
        out["tasks"].append({"key": c.key(task.get("key"), f"{where}.key", task_keys), "unit": unit_key,
                             "title": c.text(task.get("title"), f"{where}.title"),
                             "due_hours": c.number(task.get("due_hours"), f"{where}.due_hours", positive=True),
                             "per_grid": bool(task.get("per_grid", False))})
    out["checklists"] = [str(code) for code in c.items(doc.get("checklists"), "checklists")]
    if checklist_codes is not None:
        for i, code in enumerate(out["checklists"]):
            if code not in checklist_codes:
                c.fail(f"checklists[{i}]", f"no checklist template {code!r}")
    out["stock_targets"] = []
    stock_keys: set[str] = set()
    for i, raw in enumerate(c.items(doc.get("stock_targets"), "stock_targets")):
        where = f"stock_targets[{i}]"
        stock = c.mapping(raw, where)
        out["stock_targets"].append({
            "key": c.key(stock.get("key"), f"{where}.key", stock_keys),
            "name": c.text(stock.get("name"), f"{where}.name"), "unit": c.text(stock.get("unit"), f"{where}.unit"),
            "per_household": c.number(stock.get("per_household", 0), f"{where}.per_household"),
            "per_vulnerable_household": c.number(stock.get("per_vulnerable_household", 0),
                                                 f"{where}.per_vulnerable_household")})
    texts = c.mapping(doc.get("alert_texts"), "alert_texts")
    out["alert_texts"] = {}
    for moment in ("opening", "closing"):
        block = c.mapping(texts.get(moment), f"alert_texts.{moment}")
        out["alert_texts"][moment] = {part: c.text(block.get(part, {}), f"alert_texts.{moment}.{part}")
                                      for part in ("headline", "description", "instruction")}
        if not any(out["alert_texts"][moment]["headline"].values()):
            c.fail(f"alert_texts.{moment}.headline", "the alert needs a headline")
    cap = c.mapping(doc.get("cap"), "cap")
    out["cap"] = {"category": c.choice(cap.get("category"), "cap.category", CAP_CATEGORIES),
                  "event": c.text(cap.get("event"), "cap.event"),
                  "urgency": c.choice(cap.get("urgency", "Immediate"), "cap.urgency", CAP_URGENCY),
                  "certainty": c.choice(cap.get("certainty", "Observed"), "cap.certainty", CAP_CERTAINTY)}
    unknown = set(doc) - {"code", "hazard", "default_level", "name", "command_structure", "tasks", "checklists",
                          "stock_targets", "alert_texts", "cap"}
    if unknown:
        c.fail("plan", f"unknown keys {sorted(unknown)}")
    if c.problems:
        raise PlanFormatError(c.problems)
    return out


def validate_checklists(document: Any) -> list[dict[str, Any]]:
    """The cleaned checklist templates from checklists.yaml, or PlanFormatError."""
    c = _Checker()
    out = []
    codes: set[str] = set()
    for i, raw in enumerate(c.items(document, "checklists")):
        where = f"checklists[{i}]"
        tpl = c.mapping(raw, where)
        keys: set[str] = set()
        items = []
        for j, item_raw in enumerate(c.items(tpl.get("items"), f"{where}.items")):
            item = c.mapping(item_raw, f"{where}.items[{j}]")
            text = c.text(item.get("text"), f"{where}.items[{j}].text")
            items.append({"key": c.key(item.get("key"), f"{where}.items[{j}].key", keys),
                          "kind": c.choice(item.get("kind", "item"), f"{where}.items[{j}].kind",
                                           ("item", "do", "dont")),
                          "text_en": text["en"], "text_zh": text["zh"], "from_seed": bool(item.get("from_seed"))})
        name = c.text(tpl.get("name"), f"{where}.name")
        out.append({"code": c.key(tpl.get("code"), f"{where}.code", codes), "name_en": name["en"],
                    "name_zh": name["zh"], "target": c.choice(tpl.get("target"), f"{where}.target",
                                                              ("site", "household")),
                    "source": str(tpl.get("source") or ""), "items": items})
    if c.problems:
        raise PlanFormatError(c.problems)
    return out
