"""Fund pages. Thin: scope from the role, data from selectors, writes through services. The ballot page needs
no log-in: the household's ballot code is the credential."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from civicgrid.accounts.roles import scope_for
from civicgrid.core.errors import FORM_ERRORS, Invalid, error_text
from civicgrid.core.limits import int_param
from civicgrid.core.scoping import Scope, get_in_scope, require, scoped
from civicgrid.core.views import form_errors, scoped_view
from civicgrid.fund import forms as f
from civicgrid.fund import selectors, services
from civicgrid.fund.models import Proposal, Round
from civicgrid.fund.services.ledger import yuan
from civicgrid.fund.services.rounds import RESIDENTS_BODIES
from civicgrid.registry.models import SECTOR_LABELS, Household, Place, Resident

PHASE_LABELS = {"upcoming": gettext_lazy("Not yet open"), "proposals": gettext_lazy("Proposals"), "review": gettext_lazy("Feasibility review"),
                "voting": gettext_lazy("Voting"), "counting": gettext_lazy("Vote closed, counting"),
                "implementation": gettext_lazy("Results and implementation")}
OUTCOME_LABELS = {"funded": gettext_lazy("funded"), "partial": gettext_lazy("partly funded"), "skipped": gettext_lazy("did not fit the budget left"),
                  "not_reached": gettext_lazy("budget used up"), "no_votes": gettext_lazy("no votes")}
GROUP_LABELS = {"vulnerable": pgettext_lazy("population group", "Vulnerable households"), "other": gettext_lazy("Other households"), "all": gettext_lazy("All")}


def _act(request: HttpRequest, action: Callable[[], object], *, success: str) -> bool:
    try:
        action()
    except FORM_ERRORS as error:
        messages.error(request, error_text(error))
        return False
    messages.success(request, success)
    return True


def _ids(request: HttpRequest, name: str) -> list[int]:
    return [int_param(v, name) for v in request.POST.getlist(name)][:100]


@scoped_view
@require_http_methods(["GET", "POST"])
def index(request: HttpRequest, scope: Scope) -> HttpResponse:
    require(scope, "fund")
    funds = list(selectors.funds(scope=scope)[:50])
    rounds = [(r, PHASE_LABELS[services.phase(r)]) for r in selectors.rounds(scope=scope)[:50]]
    communities = []
    if scope.may("fund_manage"):
        communities = list(scoped(Place.objects.filter(level="community"), scope).order_by("code")[:100])
    if request.method == "POST":
        require(scope, "fund_manage")
        if _act(request, lambda: services.fund_open(
                user=request.user, scope=scope, community_id=int_param(request.POST.get("community"), "community"),
                year=int_param(request.POST.get("year"), "year")), success=_("Fund opened.")):
            return redirect("fund:index")
    return render(request, "fund/index.html", {"funds": [(x, yuan(x.received_fen), yuan(x.spent_fen),
                                                             yuan(x.balance_fen)) for x in funds],
                                               "rounds": rounds, "communities": communities,
                                               "year": timezone.localdate().year})



def _bodies(fund: Any) -> list[tuple[int, str]]:
    from civicgrid.analytics.governance_data import community_actors

    return [(a.pk, a.name) for a in community_actors(fund.community).filter(kind__in=RESIDENTS_BODIES).distinct()]


@scoped_view
@require_http_methods(["GET", "POST"])
def fund_detail(request: HttpRequest, scope: Scope, fund_id: int) -> HttpResponse:
    require(scope, "fund_manage" if request.method == "POST" else "fund")
    fund = selectors.fund(scope=scope, fund_id=fund_id)
    from civicgrid.analytics.governance_data import community_actors

    funders = [(a.pk, f"{a.name} ({SECTOR_LABELS.get(a.sector, a.sector)})")
               for a in community_actors(fund.community).distinct().order_by("code")]
    source_form = f.SourceForm(request.POST if request.POST.get("form") == "source" else None, funders=funders)
    round_form = f.RoundForm(request.POST if request.POST.get("form") == "round" else None, bodies=_bodies(fund))
    if request.method == "POST":
        require(scope, "fund_manage")
        if source_form.is_bound and source_form.is_valid():
            d = source_form.cleaned_data
            try:
                services.fund_receive(user=request.user, scope=scope, fund_id=fund.pk, funder_id=d["funder"],
                                      amount_fen=f.fen(d["amount"]), note=d["note"])
                messages.success(request, _("Money received into the fund."))
                return redirect("fund:fund", fund_id=fund.pk)
            except FORM_ERRORS as exc:
                form_errors(source_form, exc)
        elif round_form.is_bound and round_form.is_valid():
            d = round_form.cleaned_data
            try:
                r = services.round_create(
                    user=request.user, scope=scope, fund_id=fund.pk, title=d["title"], budget_fen=f.fen(d["budget"]),
                    method=d["method"], unit=d["unit"], max_choices=d["max_choices"],
                    partial_funding=d["partial_funding"], residents_body_id=d["residents_body"],
                    proposals_open=d["proposals_open"], review_open=d["review_open"], voting_open=d["voting_open"],
                    voting_close=d["voting_close"])
                messages.success(request, _("Round created."))
                return redirect("fund:round", round_id=r.pk)
            except FORM_ERRORS as exc:
                form_errors(round_form, exc)
    sectors = selectors.sources_by_sector(fund=fund)
    return render(request, "fund/fund.html", {
        "fund": fund, "received": yuan(fund.received_fen), "spent": yuan(fund.spent_fen),
        "balance": yuan(fund.balance_fen), "committed": yuan(fund.committed_fen),
        "sectors": [(SECTOR_LABELS[s], yuan(sectors.get(s, 0))) for s in ("state", "capital", "society")],
        "ledger": [(e, yuan(e.amount_fen), yuan(e.balance_after_fen)) for e in selectors.ledger(fund=fund)[:200]],
        "rounds": [(r, PHASE_LABELS[services.phase(r)]) for r in fund.rounds.all()],
        "source_form": source_form, "round_form": round_form,
    })


@scoped_view
def round_detail(request: HttpRequest, scope: Scope, round_id: int) -> HttpResponse:
    require(scope, "fund")
    r = selectors.round(scope=scope, round_id=round_id)
    phase = services.phase(r)
    proposals = [(p, yuan(p.cost_fen), yuan(p.funded_fen), yuan(p.spent_fen), OUTCOME_LABELS.get(p.outcome, ""),
                  p.cosigns.count()) for p in selectors.proposals(round=r)]
    context: dict[str, Any] = {"round": r, "phase": phase, "phase_label": PHASE_LABELS[phase], "proposals": proposals,
                               "budget": yuan(r.budget_fen), "phases": PHASE_LABELS.items(),
                               "my_residents": _my_residents(scope)}
    if phase == "implementation":
        grids, groups, total = selectors.turnout(round=r)
        context.update(turnout_grids=grids, turnout_groups=[(GROUP_LABELS[g.label], g) for g in groups],
                       turnout_total=total)
    return render(request, "fund/round.html", context)


def _my_residents(scope: Scope) -> list[Resident]:
    if scope.role != "resident":
        return []
    return list(Resident.objects.filter(household_id__in=scope.household_ids).order_by("id"))


@scoped_view
@require_http_methods(["GET", "POST"])
def propose(request: HttpRequest, scope: Scope, round_id: int) -> HttpResponse:
    require(scope, "fund")
    r = selectors.round(scope=scope, round_id=round_id)
    paper = scope.may("fund_manage")
    if paper:
        people = Resident.objects.filter(household__place_path__startswith=r.fund.community.path, relation="head")
        proposers = [(p.pk, f"{p.name} · {p.household.code}") for p in people.select_related("household").order_by("code")[:500]]
    else:
        proposers = [(p.pk, p.name) for p in _my_residents(scope)]
    grids = [(g.pk, g.name) for g in Place.objects.filter(level="grid", parent=r.fund.community).order_by("code")]
    form = f.ProposalForm(request.POST or None, proposers=proposers, grids=grids, paper=paper)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            codes = [c.strip() for c in d.get("cosigners", "").split() if c.strip()][:50]
            cosigners = list(Resident.objects.filter(code__in=codes).values_list("pk", flat=True))
            if len(cosigners) != len(set(codes)):
                raise Invalid({"cosigners": _("Some co-signers are not in the registry.")})
            services.proposal_submit(user=request.user, scope=scope, round_id=r.pk, title=d["title"],
                                     description=d["description"], cost_fen=f.fen(d["cost"]), proposer_id=d["proposer"],
                                     grid_id=d["grid"], cosigner_ids=cosigners, on_paper=paper)
            messages.success(request, _("Your proposal was submitted. The residents' committee will review it."))
            return redirect("fund:round", round_id=r.pk)
        except FORM_ERRORS as exc:
            form_errors(form, exc)
    return render(request, "fund/propose.html", {"round": r, "form": form, "paper": paper,
                                                 "budget": yuan(r.budget_fen)})


def _proposal(scope: Scope, proposal_id: int) -> Proposal:
    return get_in_scope(Proposal.objects.select_related("round"), scope, pk=proposal_id)


@scoped_view
@require_POST
def cosign(request: HttpRequest, scope: Scope, proposal_id: int) -> HttpResponse:
    require(scope, "fund")
    p = _proposal(scope, proposal_id)
    resident = request.POST.get("resident") or "0"
    _act(request, lambda: services.proposal_cosign(user=request.user, scope=scope, proposal_id=p.pk,
                                                   resident_id=int_param(resident, "resident")),
         success=_("You co-signed the proposal."))
    return redirect("fund:round", round_id=p.round_id)


@scoped_view
@require_POST
def review(request: HttpRequest, scope: Scope, proposal_id: int) -> HttpResponse:
    require(scope, "fund_manage")
    p = _proposal(scope, proposal_id)
    feasible = request.POST.get("decision") == "feasible"
    _act(request, lambda: services.proposal_review(user=request.user, scope=scope, proposal_id=p.pk, feasible=feasible,
                                                   reason=request.POST.get("reason", "")),
         success=_("Review recorded and published."))
    return redirect("fund:round", round_id=p.round_id)


@scoped_view
@require_POST
def spend(request: HttpRequest, scope: Scope, proposal_id: int) -> HttpResponse:
    require(scope, "fund_manage")
    p = _proposal(scope, proposal_id)

    def act() -> object:
        from decimal import Decimal, InvalidOperation

        try:
            amount = Decimal(request.POST.get("amount", "").strip() or "x")
        except InvalidOperation:
            raise Invalid({"amount": _("Enter an amount in yuan.")}) from None
        if not amount.is_finite() or amount <= 0 or amount > 100_000_000:
            raise Invalid({"amount": _("Enter an amount in yuan.")})
        return services.spending_record(user=request.user, scope=scope, proposal_id=p.pk, amount_fen=f.fen(amount),
                                        note=request.POST.get("note", ""))

    _act(request, act, success=_("Spending recorded in the fund's ledger."))
    return redirect("fund:round", round_id=p.round_id)


@scoped_view
@require_POST
def advance(request: HttpRequest, scope: Scope, round_id: int) -> HttpResponse:
    require(scope, "fund_manage")
    r = selectors.round(scope=scope, round_id=round_id)
    _act(request, lambda: services.round_advance(user=request.user, scope=scope, round_id=r.pk),
         success=_("The round moved to its next phase."))
    return redirect("fund:round", round_id=r.pk)


@scoped_view
@require_POST
def publish(request: HttpRequest, scope: Scope, round_id: int) -> HttpResponse:
    require(scope, "fund_manage")
    r = selectors.round(scope=scope, round_id=round_id)
    _act(request, lambda: services.results_publish(user=request.user, scope=scope, round_id=r.pk),
         success=_("Results published."))
    return redirect("fund:round", round_id=r.pk)


@scoped_view
@require_http_methods(["GET", "POST"])
def codes(request: HttpRequest, scope: Scope, round_id: int) -> HttpResponse:
    """The printable code sheet of a grid: shown once, when the codes are made (only digests are kept)."""
    require(scope, "fund_codes")
    r = selectors.round(scope=scope, round_id=round_id)
    issued, grid = [], None
    if request.method == "POST":
        grid_id = int_param(request.POST.get("grid") or "0", "grid")
        grid = Place.objects.filter(pk=grid_id).first()
        households = request.POST.get("household", "").strip()
        ids = None
        if households:
            ids = list(Household.objects.filter(code=households).values_list("pk", flat=True)) or [0]
        try:
            issued = services.codes_issue(user=request.user, scope=scope, round_id=r.pk, grid_id=grid_id,
                                          household_ids=ids)
        except FORM_ERRORS as exc:
            messages.error(request, error_text(exc))
    vote_url = request.build_absolute_uri(f"/fund/rounds/{r.pk}/vote/")
    return render(request, "fund/codes.html", {"round": r, "rows": selectors.code_summary(scope=scope, round=r),
                                               "issued": issued, "grid": grid, "vote_url": vote_url})


@scoped_view
@require_http_methods(["GET", "POST"])
def paper(request: HttpRequest, scope: Scope, round_id: int) -> HttpResponse:
    """Paper ballots: hand a sheet to a household of the registry; enter each sheet (twice, two staff)."""
    require(scope, "fund_codes")
    r = selectors.round(scope=scope, round_id=round_id)
    if request.method == "POST":
        if request.POST.get("form") == "issue":
            def hand_out() -> object:
                code = request.POST.get("household", "").strip()[:40]
                household = scoped(Household.objects.filter(code=code), scope).first()
                if household is None:
                    raise Invalid({"household": _("No such household in your area.")})
                resident = request.POST.get("resident", "").strip()
                return services.paper_issue(user=request.user, scope=scope, round_id=r.pk, household_id=household.pk,
                                            resident_id=int_param(resident, "resident") if resident else None)
            _act(request, hand_out, success=_("Paper ballot handed out; the household is marked as voted."))
        else:
            def enter() -> object:
                sheet = services.paper_enter(user=request.user, scope=scope, round_id=r.pk,
                                             serial=request.POST.get("serial", ""), proposal_ids=_ids(request, "choice"))
                if sheet.status == "flagged":
                    raise Invalid({"serial": _("The two entries of this sheet differ: it is flagged for a director.")})
                return sheet
            _act(request, enter, success=_("Paper ballot entered."))
        return redirect("fund:paper", round_id=r.pk)
    feasible = r.proposals.filter(status=Proposal.Status.FEASIBLE).order_by("seq")
    return render(request, "fund/paper.html", {"round": r, "proposals": feasible,
                                               "sheets": selectors.paper_sheets(round=r)})


@require_http_methods(["GET", "POST"])
def vote(request: HttpRequest, round_id: int) -> HttpResponse:
    """The ballot page, reached with a household's code: no account needed."""
    r = Round.objects.select_related("fund__community").filter(pk=round_id).first()
    if r is None:
        from civicgrid.core.errors import NotFound

        raise NotFound()
    code = request.POST.get("code", "").strip()[:64]
    view, error, done = None, "", False
    if request.method == "POST" and code:
        try:
            if "choice" in request.POST or request.POST.get("cast"):
                services.ballot_cast(user=request.user, scope=scope_for(request.user), round_id=r.pk, code=code,
                                     proposal_ids=_ids(request, "choice"),
                                     revision=int_param(request.POST.get("revision", "0"), "revision", minimum=0))
                done = True
            view = services.ballot_lookup(round_id=r.pk, code=code)
        except FORM_ERRORS as exc:
            error = error_text(exc)
            try:
                view = services.ballot_lookup(round_id=r.pk, code=code)
            except FORM_ERRORS:
                view = None
    phase = services.phase(r)
    feasible = [(p, yuan(p.cost_fen)) for p in r.proposals.filter(status=Proposal.Status.FEASIBLE).order_by("seq")]
    return render(request, "fund/vote.html", {"round": r, "phase": phase, "phase_label": PHASE_LABELS[phase],
                                              "view": view, "code": code if view else "", "error": error,
                                              "done": done, "proposals": feasible, "budget": yuan(r.budget_fen)})
