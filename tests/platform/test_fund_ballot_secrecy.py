"""The secret ballot (design in civicgrid.fund.models): no column links a ballot to a household, and no query
the platform runs (voting, counting, results, turnout, pages) joins ballots with households or voters."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from civicgrid.core.models import AuditLog
from civicgrid.core.scoping import PLATFORM
from civicgrid.fund import selectors, services
from civicgrid.fund.models import Ballot, BallotChoice
from civicgrid.registry.models import Place
from tests.platform.factories import user
from tests.platform.fund_support import community, funded, voting_round

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
BALLOT_TABLES = ("fund_ballot",)  # also matches fund_ballotchoice
PERSON_TABLES = ("registry_household", "registry_resident", "fund_voter")


def test_a_ballot_row_has_no_relation_but_its_round_and_no_time() -> None:
    for model, allowed in ((Ballot, {"round"}), (BallotChoice, {"ballot", "proposal"})):
        relations = {f.name for f in model._meta.concrete_fields if f.is_relation}
        assert relations == allowed
        assert not [f for f in model._meta.concrete_fields if f.get_internal_type() in {"DateTimeField", "DateField"}]
        assert model._meta.pk.get_internal_type() == "UUIDField"  # ids do not follow the order of voting


def test_no_query_joins_a_ballot_to_a_household() -> None:
    fund = funded(community())
    grid = Place.objects.filter(level="grid", parent=fund.community).order_by("code").first()
    with CaptureQueriesContext(connection) as queries:
        r, (a, b) = voting_round(fund, [100, 200])
        codes = services.codes_issue(user=None, scope=PLATFORM, round_id=r.pk, grid_id=grid.pk)
        rev = services.ballot_cast(user=None, scope=PLATFORM, round_id=r.pk, code=codes[0].code, proposal_ids=[a.pk],
                                   revision=0)
        services.ballot_cast(user=None, scope=PLATFORM, round_id=r.pk, code=codes[0].code, proposal_ids=[b.pk],
                             revision=rev)
        services.ballot_lookup(round_id=r.pk, code=codes[0].code)
        client = Client(headers={"accept-language": "zh-hans"})
        assert client.post(f"/fund/rounds/{r.pk}/vote/", {"code": codes[1].code, "choice": [str(a.pk)],
                                                          "revision": "0", "cast": "1"}).status_code == 200
        services.round_advance(user=None, scope=PLATFORM, round_id=r.pk)
        services.results_publish(user=None, scope=PLATFORM, round_id=r.pk)
        selectors.turnout(round=r)
        client.force_login(user("director"))
        assert client.get(f"/fund/rounds/{r.pk}/").status_code == 200
        assert client.get(f"/api/fund/rounds/{r.pk}").status_code == 200
    sql = [q["sql"].lower() for q in queries.captured_queries]
    assert any("fund_ballot" in s for s in sql) and any("fund_voter" in s for s in sql)
    joined = [s for s in sql if any(t in s for t in BALLOT_TABLES) and any(t in s for t in PERSON_TABLES)]
    assert joined == []
    # and the audit log names the round, never a ballot or a household, for a ballot cast
    cast = AuditLog.objects.filter(event="fund.ballot_cast")
    assert cast.count() == 3 and set(cast.values_list("model", flat=True)) == {"fund.Round"}
    assert all(not e.new for e in cast)
