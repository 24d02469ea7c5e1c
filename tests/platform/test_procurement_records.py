"""What procurement records feed: the OCDS export, the CREI indicator, the governance contributions, the demo."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from civicgrid.accounts.roles import scope_for
from civicgrid.analytics.governance_data import governance_inputs
from civicgrid.core.places import ancestors
from civicgrid.engine.social_growth import growth_profiles
from civicgrid.procurement import services
from civicgrid.procurement.crei import purchased_services
from civicgrid.procurement.demo import demo_load
from civicgrid.procurement.governance import contributions
from civicgrid.procurement.models import Appropriation, Call, Contract, Milestone, Payment
from civicgrid.procurement.ocds import release_package
from civicgrid.registry.models import Actor, Place, Resident
from civicgrid.social.models import Organisation
from tests.platform.procurement_support import close, credit_code, setup

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

# OCDS 1.1 codelists (https://standard.open-contracting.org/1.1/en/schema/codelists/): releaseTag, tenderStatus,
# awardStatus, contractStatus, milestoneStatus; and the release schema's required fields (release-schema.json
# "required": ocid, id, date, tag, initiationType; package: uri, publishedDate, publisher, releases, version).
RELEASE_TAGS = {"planning", "planningUpdate", "tender", "tenderAmendment", "tenderUpdate", "tenderCancellation",
                "award", "awardUpdate", "awardCancellation", "contract", "contractUpdate", "contractAmendment",
                "implementation", "implementationUpdate", "contractTermination", "compiled"}
TENDER_STATUS = {"planning", "planned", "active", "cancelled", "unsuccessful", "complete", "withdrawn"}
AWARD_STATUS = {"pending", "active", "cancelled", "unsuccessful"}
CONTRACT_STATUS = {"pending", "active", "cancelled", "terminated"}
MILESTONE_STATUS = {"scheduled", "met", "notMet", "partiallyMet"}


def _paid_purchase(s, amount=400_000):  # type: ignore[no-untyped-def]
    application = services.application_submit(user=s.staff, scope=scope_for(s.staff), call_id=s.call.pk,
                                               organisation_id=s.org.actor_id, amount_fen=amount, proposal="p")
    close(s.call)
    today = timezone.localdate()
    contract = services.call_award(
        user=s.district, scope=scope_for(s.district), call_id=s.call.pk, application_id=application.pk,
        arbiter_id=s.district.pk, ends_on=today + timedelta(days=60),
        milestones=[services.MilestoneSpec("first", 30, today, "deliveries_done", 2),
                    services.MilestoneSpec("second", 70, today + timedelta(days=60), "deliveries_done", 5)])
    first = contract.milestones.get(number=1)
    services.milestone_decide(user=s.district, scope=scope_for(s.district), milestone_id=first.pk, accept=True,
                              reason="reports on paper")
    services.payment_make(user=s.district, scope=scope_for(s.district), milestone_id=first.pk, reference="T-1")
    return contract


def test_the_ocds_release_package_has_the_standards_required_fields_and_codes(settings) -> None:
    settings.CIVICGRID_PROCUREMENT = {"ocid_prefix": "ocds-abc123"}
    s = setup()
    contract = _paid_purchase(s)
    call = Call.objects.get(pk=s.call.pk)
    package = release_package(call=call, uri="https://example.org/p.json", publisher="district")
    assert {"uri", "publishedDate", "publisher", "releases", "version"} <= set(package) and package["version"] == "1.1"
    (release,) = package["releases"]
    assert {"ocid", "id", "date", "tag", "initiationType"} <= set(release)
    assert release["ocid"] == f"ocds-abc123-call-{call.pk}" and release["initiationType"] == "tender"
    assert set(release["tag"]) <= RELEASE_TAGS and {"tender", "award", "contract", "implementation"} <= set(release["tag"])
    assert release["tender"]["status"] in TENDER_STATUS
    assert release["tender"]["value"] == {"amount": call.budget_fen / 100, "currency": "CNY"}
    (award,) = release["awards"]
    (ocds_contract,) = release["contracts"]
    assert award["status"] in AWARD_STATUS and ocds_contract["status"] in CONTRACT_STATUS
    assert ocds_contract["awardID"] == award["id"] and award["suppliers"][0]["id"] == s.org.actor.code
    milestones = {m["id"]: m for m in ocds_contract["milestones"]}
    assert len(milestones) == Milestone.objects.filter(contract=contract).count() == 2
    assert {m["status"] for m in milestones.values()} <= MILESTONE_STATUS
    assert sum(m["value"]["amount"] for m in milestones.values()) == pytest.approx(contract.amount_fen / 100)
    (transaction_,) = ocds_contract["implementation"]["transactions"]
    assert transaction_["relatedImplementationMilestone"]["id"] in milestones
    assert milestones[transaction_["relatedImplementationMilestone"]["id"]]["status"] == "met"
    paid = sum(p.amount_fen for p in Payment.objects.filter(milestone__contract=contract))
    assert transaction_["value"]["amount"] == paid / 100
    party_ids = {p["id"] for p in release["parties"]}
    assert {release["buyer"]["id"], s.org.actor.code} <= party_ids


def test_purchased_services_is_yuan_per_thousand_residents_of_a_plain_count() -> None:
    s = setup()
    assert purchased_services({"x": []}) is None  # nothing recorded yet: missing, not zero
    contract = _paid_purchase(s)
    grids = list(Place.objects.filter(level="grid", parent=s.community).values_list("id", flat=True))
    residents = Resident.objects.filter(household__place_path__startswith=s.community.path).count()
    other = Place.objects.get(level="community", code__endswith="C02")
    other_grids = list(Place.objects.filter(level="grid", parent=other).values_list("id", flat=True))
    values = purchased_services({"C01": grids, "C02": other_grids})
    assert values["C01"] == pytest.approx(contract.amount_fen / 100 * 1000 / residents)
    assert values["C02"] == 0


def test_governance_counts_each_purchase_as_resources_of_the_funders_sector() -> None:
    s = setup()
    _paid_purchase(s)
    found = contributions(community=s.community)
    assert [(c.actor_id, c.kind, c.amount, c.basis) for c in found] == [(s.funder.code, "resources", 1.0, "recorded")]
    assert s.funder.sector == "state"
    inputs = governance_inputs(community=s.community)
    assert any(c.actor_id == s.funder.code and c.kind == "resources" for c in inputs.contributions)


def _verify_all_society_actors() -> None:
    for actor in Actor.objects.filter(sector="society").order_by("code"):
        Organisation.objects.get_or_create(actor=actor, defaults={"credit_code": credit_code(),
                                                                  "verification": "verified"})


def _signature() -> list[tuple[str, str, int, int]]:
    return sorted((c.call.place.code, c.call.title, c.amount_fen, c.milestones.filter(status="paid").count())
                  for c in Contract.objects.select_related("call__place"))


def test_the_demo_buys_as_many_services_as_each_communitys_profile_says_deterministically() -> None:
    assert demo_load(households=0, seed=3) == ["procurement: no verified social organisation yet; no purchases created"]
    assert not Contract.objects.exists()
    _verify_all_society_actors()
    signatures = []
    for _ in range(2):
        with transaction.atomic():
            demo_load(households=0, seed=3)
            codes = sorted(Place.objects.filter(level="community").values_list("code", flat=True))
            profiles = growth_profiles(codes)
            for code in codes:
                community = Place.objects.get(code=code)
                has_funder = Actor.objects.filter(sector="state", service_area__path__in=ancestors(community.path)
                                                  ).exists() or Actor.objects.filter(
                    sector="state", service_area__path__startswith=community.path).exists()
                expected = profiles[code].purchased_services if has_funder else 0
                assert Contract.objects.filter(call__place=community).count() == expected, code
            assert profiles[codes[0]].purchased_services == 6 and profiles[codes[1]].purchased_services == 0
            for a in Appropriation.objects.all():
                paid = sum(Payment.objects.filter(appropriation=a).values_list("amount_fen", flat=True))
                assert a.spent_fen == paid <= a.committed_fen <= a.amount_fen
            assert not Milestone.objects.filter(status="paid", payment__isnull=True).exists()
            signatures.append(_signature())
            transaction.set_rollback(True)
    assert signatures[0] == signatures[1] and signatures[0]
