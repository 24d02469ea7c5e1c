"""This app's recorded contributions to a community's governance (civicgrid.analytics.governance_data):

* **resources**: money received into the community's fund, one unit per receipt, by funder (its sector
  is the funder actor's sector). One unit per gift, as relief counts donations, the social app grants
  and procurement contracts: yuan here would outweigh every gift in kind counted elsewhere;
* **decisions**: each participatory round whose results were published is one decision, taken by the
  residents' body named on the round (a residents' committee or the residents' own organisation, whose
  sector the registry records) — the vote is the residents', so it counts for the body that represents them.
"""

from __future__ import annotations

from django.db.models import Count

from civicgrid.engine.governance import Contribution
from civicgrid.fund.models import LedgerEntry, Round
from civicgrid.registry.models import Place


def contributions(*, community: Place) -> list[Contribution]:
    money = (LedgerEntry.objects.filter(fund__community=community, kind=LedgerEntry.Kind.SOURCE)
             .values("funder__code").annotate(n=Count("id")).order_by())
    decided = (Round.objects.filter(fund__community=community, results_published_at__isnull=False,
                                    residents_body__isnull=False)
               .values("residents_body__code").annotate(n=Count("id")).order_by())
    return ([Contribution(actor_id=r["funder__code"], kind="resources", amount=float(r["n"]), basis="recorded")
             for r in money]
            + [Contribution(actor_id=r["residents_body__code"], kind="decisions", amount=float(r["n"]), basis="recorded")
               for r in decided])
