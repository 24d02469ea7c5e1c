"""The fund app's audit events (see civicgrid.core.audit). No event names a household beside a ballot's
content: a ballot is audited on its round only (see civicgrid.fund.models)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class FundEvent(models.TextChoices):
    FUND_OPENED = "fund.fund_opened", _("community fund opened")
    SOURCE_RECEIVED = "fund.source_received", _("money received into the fund")
    SPENDING_RECORDED = "fund.spending_recorded", _("spending recorded against a project")
    ROUND_CREATED = "fund.round_created", _("participatory round created")
    PHASE_ADVANCED = "fund.phase_advanced", _("round moved to its next phase")
    PROPOSAL_SUBMITTED = "fund.proposal_submitted", _("project proposed")
    PROPOSAL_COSIGNED = "fund.proposal_cosigned", _("proposal co-signed")
    PROPOSAL_REVIEWED = "fund.proposal_reviewed", _("proposal reviewed for feasibility")
    CODES_ISSUED = "fund.codes_issued", _("ballot codes issued")
    BALLOT_CAST = "fund.ballot_cast", _("ballot cast or changed")
    PAPER_ISSUED = "fund.paper_issued", _("paper ballot handed out")
    PAPER_ENTERED = "fund.paper_entered", _("paper ballot entered")
    RESULTS_PUBLISHED = "fund.results_published", _("round results published")
