"""Reads for the relief workflow, always through the caller's scope; split by domain, every public name
re-exported here (``from civicgrid.relief import selectors; selectors.round_preview(...)``):

- :mod:`.needs`: who may file for which household (``filing_scope``, ``household_for_filing[_by_code]``),
  needs and their filings (``need_list``, ``need_get``, ``need_filings``, ``need_counts``), their progress as
  a household sees it (``NeedProgress``, ``need_progress``, ``my_needs``, ``show_codes``).
- :mod:`.stock`: the catalogue (``item_list``, ``catalogue_item``), distribution points (``point_list``,
  ``point_get``, ``points_by_path``, ``point_for_path``), lots and the ledger (``available_lots``,
  ``stock_available``, ``stock_levels``, ``lot_list``, ``ledger_list``), offers and donors (``offer_list``,
  ``offer_get``, ``donors_for``).
- :mod:`.round_reads`: what a round reads, as the engine's tables (``round_inputs``, ``round_needs``,
  ``round_waiting``, ``round_filed_since``, ``round_points``, ``round_lots``, ``iso_instants``).
- :mod:`.rounds`: a round's places, items, days, policy and seed checked (``round_places``,
  ``round_selection``, ``round_choice``, ``round_policy``, ``round_cutoff``), the preview (``RoundPreview``,
  ``round_preview``), stored rounds and their check (``round_list``, ``round_get``, ``RoundCheck``,
  ``round_check``, ``ROUND_BULK``), queued confirmations (``confirmation_list``, ``confirmation_get``).
- :mod:`.tasks`: delivery tasks (``task_households``, ``claimable_filter``, ``task_claimable``,
  ``task_held``, ``task_area``, ``task_get``, ``task_visible``, ``task_organisations``), their stops
  (``task_stops``, ``stop_lines``, ``stop_recipients``, ``task_stop_count``, ``stop_counts``) and a round's tasks
  (``round_task_counts``).

A patch of an attribute here (``monkeypatch.setattr(selectors, "round_inputs", ...)``) reaches callers
outside the package; inside it, ``round_preview`` reads through ``selectors.round_inputs`` so that such a
patch reaches it too. Any other call between these modules is direct: patch the defining module for it.
"""

from civicgrid.relief.selectors.needs import (
    NEED_SORTS,
    NeedProgress,
    filing_scope,
    household_for_filing,
    household_for_filing_by_code,
    my_needs,
    need_counts,
    need_filings,
    need_get,
    need_list,
    need_progress,
    show_codes,
)
from civicgrid.relief.selectors.round_reads import (
    iso_instants,
    round_filed_since,
    round_inputs,
    round_lots,
    round_needs,
    round_points,
    round_waiting,
)
from civicgrid.relief.selectors.rounds import (
    ROUND_BULK,
    RoundCheck,
    RoundPreview,
    confirmation_get,
    confirmation_list,
    round_check,
    round_choice,
    round_cutoff,
    round_get,
    round_list,
    round_places,
    round_policy,
    round_preview,
    round_selection,
)
from civicgrid.relief.selectors.stock import (
    available_lots,
    catalogue_item,
    donors_for,
    item_list,
    ledger_list,
    lot_list,
    offer_get,
    offer_list,
    point_for_path,
    point_get,
    point_list,
    points_by_path,
    stock_available,
    stock_levels,
)
from civicgrid.relief.selectors.tasks import (
    claimable_filter,
    round_task_counts,
    stop_counts,
    stop_lines,
    stop_recipients,
    task_area,
    task_claimable,
    task_get,
    task_held,
    task_households,
    task_organisations,
    task_stop_count,
    task_stops,
    task_visible,
)

__all__ = [
    # needs
    "NEED_SORTS", "NeedProgress", "filing_scope", "household_for_filing", "household_for_filing_by_code",
    "my_needs", "need_counts", "need_filings", "need_get", "need_list", "need_progress", "show_codes",
    # stock
    "available_lots", "catalogue_item", "donors_for", "item_list", "ledger_list", "lot_list", "offer_get",
    "offer_list", "point_for_path", "point_get", "point_list", "points_by_path", "stock_available",
    "stock_levels",
    # round_reads
    "iso_instants", "round_filed_since", "round_inputs", "round_lots", "round_needs", "round_points",
    "round_waiting",
    # rounds
    "ROUND_BULK", "RoundCheck", "RoundPreview", "confirmation_get", "confirmation_list", "round_check",
    "round_choice", "round_cutoff", "round_get", "round_list", "round_places", "round_policy", "round_preview",
    "round_selection",
    # tasks
    "claimable_filter", "round_task_counts", "stop_counts", "stop_lines", "stop_recipients", "task_area", "task_claimable",
    "task_get", "task_held", "task_households", "task_organisations", "task_stop_count", "task_stops",
    "task_visible",
]
