"""A call for proposals as an Open Contracting Data Standard 1.1 release package (JSON).

One contracting process per call: ``ocid`` = the configured prefix + ``-call-<id>``; one compiled release
tagged with the stages reached (``tender``, ``award``, ``contract``, ``implementation``). Money is a number
in yuan with its currency. The contract's milestones are ``contracts[].milestones`` (type ``delivery``,
status ``scheduled`` / ``met`` / ``notMet``); each payment is an ``implementation.transactions`` entry that
names its milestone through ``relatedImplementationMilestone`` (the ``transactions_relatedMilestone``
extension, declared in the package's ``extensions``) — in civicgrid a payment always names one.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import get_language

from civicgrid.procurement.conf import conf
from civicgrid.procurement.models import Call, Contract, Milestone

RELATED_MILESTONE_EXTENSION = ("https://raw.githubusercontent.com/open-contracting-extensions/"
                               "ocds_transactions_relatedMilestone_extension/master/extension.json")
_MILESTONE_STATUS = {"pending": "scheduled", "rejected": "notMet", "accepted": "met", "paid": "met"}


def ocid(call: Call) -> str:
    return f"{conf('ocid_prefix')}-call-{call.pk}"


def _value(fen: int) -> dict[str, Any]:
    return {"amount": round(fen / 100, 2), "currency": conf("currency")}


def _party(actor: Any, roles: list[str]) -> dict[str, Any]:
    return {"id": actor.code, "name": actor.name, "roles": roles}


def release_package(*, call: Call, uri: str, publisher: str) -> dict[str, Any]:
    funder = call.appropriation.funder
    parties: dict[str, dict[str, Any]] = {funder.code: _party(funder, ["buyer", "payer"])}
    applications = list(call.applications.select_related("organisation__actor").order_by("id"))
    for a in applications:
        parties.setdefault(a.organisation.actor.code, _party(a.organisation.actor, []))["roles"].append("tenderer")
    tags = ["tender"]
    tender_status = "active" if call.status == Call.Status.OPEN else "complete"
    release: dict[str, Any] = {
        "ocid": ocid(call), "id": f"{ocid(call)}-{timezone.now():%Y%m%dT%H%M%S}",
        "date": timezone.now().isoformat(), "language": (get_language() or "zh")[:2], "initiationType": "tender",
        "buyer": {"id": funder.code, "name": funder.name},
        "tender": {"id": f"call-{call.pk}", "title": call.title, "description": call.description,
                   "status": tender_status, "value": _value(call.budget_fen),
                   "procurementMethod": "open", "mainProcurementCategory": "services",
                   "tenderPeriod": {"startDate": call.published_at.isoformat(), "endDate": call.deadline.isoformat()},
                   "numberOfTenderers": len(applications),
                   "tenderers": [{"id": a.organisation.actor.code, "name": a.organisation.actor.name}
                                 for a in applications]},
        "awards": [], "contracts": [],
    }
    contract: Contract | None = getattr(call, "contract", None) if call.status == Call.Status.AWARDED else None
    if contract is not None:
        tags += ["award", "contract"]
        supplier = contract.organisation.actor
        parties[supplier.code]["roles"] += ["supplier", "payee"]
        award_id = f"award-{contract.pk}"
        release["awards"].append({"id": award_id, "status": "active", "date": contract.signed_at.isoformat(),
                                  "value": _value(contract.amount_fen),
                                  "suppliers": [{"id": supplier.code, "name": supplier.name}]})
        milestones = list(contract.milestones.order_by("number"))
        transactions = []
        for m in milestones:
            payment = getattr(m, "payment", None) if m.status == Milestone.Status.PAID else None
            if payment is not None:
                transactions.append({
                    "id": f"payment-{payment.pk}", "date": payment.paid_at.isoformat(), "value": _value(payment.amount_fen),
                    "payer": {"id": funder.code, "name": funder.name},
                    "payee": {"id": supplier.code, "name": supplier.name},
                    "relatedImplementationMilestone": {"id": f"milestone-{m.pk}", "title": m.title}})
        if transactions:
            tags.append("implementation")
        release["contracts"].append({
            "id": f"contract-{contract.pk}", "awardID": award_id,
            "status": "active" if contract.status == Contract.Status.ACTIVE else "terminated",
            "value": _value(contract.amount_fen), "dateSigned": contract.signed_at.isoformat(),
            "period": {"startDate": contract.signed_at.isoformat(), "endDate": contract.ends_on.isoformat()},
            "milestones": [{"id": f"milestone-{m.pk}", "title": m.title, "type": "delivery",
                            "description": f"{m.target} × {m.get_deliverable_display()}", "dueDate": m.due_on.isoformat(),
                            "status": _MILESTONE_STATUS[m.status], "value": _value(m.amount_fen),
                            **({"dateMet": m.decided_at.isoformat()} if m.decided_at and m.status in ("accepted", "paid")
                               else {})}
                           for m in milestones],
            "implementation": {"transactions": transactions},
        })
    release["tag"] = tags
    release["parties"] = list(parties.values())
    return {"uri": uri, "version": "1.1", "publishedDate": timezone.now().isoformat(),
            "publisher": {"name": publisher}, "extensions": [RELATED_MILESTONE_EXTENSION], "releases": [release]}
