"""The fund app's forms: money is typed in yuan (two decimals) and handed to services in fen."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from civicgrid.fund.models import REASON_CHARS, TEXT_CHARS, TITLE_CHARS, Round


def yuan_field(label: Any) -> forms.DecimalField:
    """An amount in yuan: at least one fen, two decimals, at most 100 million."""
    return forms.DecimalField(label=label, min_value=Decimal("0.01"), max_value=Decimal("100000000"), decimal_places=2,
                              max_digits=11)


def _choices(form: forms.Form, name: str, choices: list[Any]) -> None:
    cast(forms.ChoiceField, form.fields[name]).choices = choices


def fen(value: Decimal) -> int:
    return int((value * 100).to_integral_value())


class ProposalForm(forms.Form):
    title = forms.CharField(label=_("Project title"), max_length=TITLE_CHARS)
    description = forms.CharField(label=_("What it is and why"), max_length=TEXT_CHARS, required=False,
                                  widget=forms.Textarea(attrs={"rows": 4}))
    cost = yuan_field(_("Estimated cost (yuan)"))
    proposer = forms.TypedChoiceField(label=_("Proposed by"), coerce=int)
    grid = forms.TypedChoiceField(label=_("Grid"), coerce=int, required=False, empty_value=None)
    cosigners = forms.CharField(label=_("Co-signers' resident codes (one per line)"), required=False,
                                widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)

    def __init__(self, *args: Any, proposers: list[tuple[int, str]], grids: list[tuple[int, str]],
                 paper: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "proposer", proposers)
        _choices(self, "grid", [("", _("The whole community")), *grids])
        if not paper:
            del self.fields["cosigners"]


class RoundForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=TITLE_CHARS)
    budget = yuan_field(_("Budget (yuan)"))
    method = forms.ChoiceField(label=_("Voting method"), choices=Round.Method.choices)
    unit = forms.ChoiceField(label=_("Who votes"), choices=Round.Unit.choices)
    max_choices = forms.IntegerField(label=_("Most projects per ballot (0: any)"), min_value=0, max_value=50, initial=3)
    partial_funding = forms.BooleanField(label=_("Partial funding of the next project"), required=False)
    residents_body = forms.TypedChoiceField(label=_("Residents' body deciding"), coerce=int)
    proposals_open = forms.DateTimeField(label=_("Proposals open"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    review_open = forms.DateTimeField(label=_("Review starts"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    voting_open = forms.DateTimeField(label=_("Voting opens"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    voting_close = forms.DateTimeField(label=_("Voting closes"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))

    def __init__(self, *args: Any, bodies: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "residents_body", bodies)


class SourceForm(forms.Form):
    funder = forms.TypedChoiceField(label=_("Funder"), coerce=int)
    amount = yuan_field(_("Amount (yuan)"))
    note = forms.CharField(label=_("Note"), max_length=REASON_CHARS, required=False)

    def __init__(self, *args: Any, funders: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self, "funder", funders)
