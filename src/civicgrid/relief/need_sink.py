"""Relief's side of the need-sink hook (civicgrid.core.plugins.NeedSink): how other apps (a sweep
visit, an isolation check-in) file a household's need without importing relief."""

from __future__ import annotations

from typing import Any

from civicgrid.core.scoping import Scope
from civicgrid.relief import selectors, services


class ReliefNeedSink:
    def file(self, *, user: Any, scope: Scope, household_id: int, item: str, quantity: int, key: str,
             urgency: str, note: str, channel: str) -> int:
        filing = services.need_file(user=user, scope=scope, household_id=household_id, item=item,
                                    quantity=quantity, key=key, urgency=urgency, note=note, channel=channel)
        return int(filing.need.pk)

    def items(self) -> list[tuple[str, str]]:
        return [(item.code, str(getattr(item, "label", item))) for item in selectors.item_list()]

    def open_count(self, *, scope: Scope) -> int:
        return int(selectors.need_counts(scope=scope).get("open", 0))
