"""Relief forms. Each shows its errors next to the field; the services check everything again."""

from __future__ import annotations

import uuid
from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from civicgrid.core.limits import MAX_ID
from civicgrid.core.scoping import Scope
from civicgrid.core.widgets import ManyCheckboxes, ManyOptions
from civicgrid.engine.allocation import POLICIES
from civicgrid.registry.models import SECTOR_LABELS, Household
from civicgrid.relief import selectors
from civicgrid.relief.conf import relief_setting
from civicgrid.relief.models import (
    CATEGORIES,
    CHANNELS,
    FAILURE_REASONS,
    MAX_ROUND_DAYS,
    URGENCIES,
    Item,
)

POLICY_LABELS = {
    "equity": _("equity: survival minimums first, then by need and vulnerability"),
    "proportional": _("proportional to need"),
    "equal": _("equal shares"),
    "fcfs": _("first come, first served"),
    "lottery": _("lottery"),
}


def _choices(field: forms.Field, choices: list[Any]) -> None:
    cast(forms.ChoiceField, field).choices = choices


def _item_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for item in selectors.item_list():
        groups.setdefault(str(CATEGORIES[item.category]), []).append((item.code, f"{item.label} ({item.unit_label})"))
    return list(groups.items())


class NeedForm(forms.Form):
    household = forms.CharField(label=_("Household code"), max_length=40)
    category = forms.ChoiceField(label=_("What is needed"), choices=list(CATEGORIES.items()))
    item = forms.ChoiceField(label=_("Item"), required=False,
                             help_text=_("leave empty when the category has one item"))
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=10_000, required=False,
                                  help_text=_("leave empty for the standard amount for the household's size"))
    urgency = forms.ChoiceField(label=_("Urgency"), choices=list(URGENCIES.items()), initial="normal",
                                widget=forms.RadioSelect)
    channel = forms.ChoiceField(label=_("How the need reached you"), choices=list(CHANNELS.items()),
                                initial="phone")
    note = forms.CharField(label=_("Note"), required=False, max_length=500,
                           widget=forms.Textarea(attrs={"rows": 2}))
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("idempotency_key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)
        self.scope = scope
        _choices(self.fields["item"], [("", "—"), *_item_choices()])
        if scope.role == "resident":  # a resident files for their own household, by themselves
            del self.fields["household"]
            del self.fields["channel"]

    def clean_household(self) -> int:
        code = self.cleaned_data["household"]
        try:
            return selectors.household_for_filing_by_code(scope=self.scope, code=code).pk
        except Exception:
            raise ValidationError(_("No household with this code in your area.")) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        category, code = data.get("category"), data.get("item")
        if category and not code:
            options = list(selectors.item_list().filter(category=category).values_list("code", flat=True))
            if len(options) == 1:
                data["item"] = options[0]
            else:
                self.add_error("item", _("Choose the item: this category has several (or none)."))
        elif category and code and not Item.objects.filter(code=code, category=category).exists():
            self.add_error("item", _("This item is not in the chosen category."))
        if data.get("quantity") is None and "quantity" not in self.errors and data.get("item"):
            data["quantity"] = self._standard_quantity(data)
        return data

    def _standard_quantity(self, data: dict[str, Any]) -> int | None:
        """The catalogue's per-person default for the household's size over a round's days."""
        item = Item.objects.filter(code=data["item"]).first()
        household_id = data.get("household") or next(iter(self.scope.household_ids), None)
        size = None if household_id is None else Household.objects.filter(pk=household_id).values_list(
            "size", flat=True).first()
        if item is None or not item.per_person_per_day or size is None:
            self.add_error("quantity", _("Give the quantity: this item has no standard amount per person."))
            return None
        return item.default_quantity(persons=max(1, size), days=relief_setting("round_days"))


class IssueForm(forms.Form):
    item = forms.ChoiceField(label=_("Item"))
    point = forms.ChoiceField(label=_("Distribution point"))
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1)
    reason = forms.CharField(label=_("Issued for"), max_length=200)

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self.fields["item"], _item_choices())
        _choices(self.fields["point"], [(p.pk, p.name) for p in selectors.point_list(scope=scope)])


class ReceiveForm(IssueForm):
    expiry = forms.DateField(label=_("Expiry date"), required=False, widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"].label = _("Source")


class OfferForm(forms.Form):
    donor = forms.ChoiceField(label=_("Donor"), widget=ManyOptions)  # every actor of a district (4,000 at 1M)
    item = forms.ChoiceField(label=_("Item"))
    quantity = forms.IntegerField(label=_("Quantity pledged"), min_value=1)
    point = forms.ChoiceField(label=_("Deliver to"))
    expiry = forms.DateField(label=_("Expiry date"), required=False, widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))
    note = forms.CharField(label=_("Note"), required=False, max_length=200)

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        sectors = {key: str(label) for key, label in SECTOR_LABELS.items()}  # translated once, not per actor
        _choices(self.fields["donor"], [(pk, f"{name} · {sectors.get(sector, sector)}") for pk, name, sector in
                                        selectors.donors_for(scope=scope).order_by("sector", "code")
                                        .values_list("pk", "name", "sector")])
        _choices(self.fields["item"], _item_choices())
        _choices(self.fields["point"], [(p.pk, p.name) for p in selectors.point_list(scope=scope)])


class OfferStepForm(forms.Form):
    """The next step of an offer: the quantity received, or accepted at inspection (with a note)."""

    quantity = forms.IntegerField(label=_("Quantity"), min_value=0, required=False)
    note = forms.CharField(label=_("Inspection note"), required=False, max_length=200)


class RoundForm(forms.Form):
    places = forms.MultipleChoiceField(label=_("Where"), widget=ManyCheckboxes)  # every grid of a district
    items = forms.MultipleChoiceField(label=_("Items"), widget=forms.CheckboxSelectMultiple)
    days = forms.IntegerField(label=_("Days the round covers"), min_value=1, max_value=MAX_ROUND_DAYS,
                              initial=relief_setting("round_days"))

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self.fields["places"], [
            (p.pk, f"{p.get_level_display()} {p.name}") for p in selectors.round_places(scope=scope)])
        _choices(self.fields["items"], [(i.code, f"{i.label} ({i.unit_label})") for i in selectors.item_list()])


class ConfirmForm(RoundForm):
    policy = forms.ChoiceField(label=_("Policy"), choices=[(p, POLICY_LABELS[p]) for p in POLICIES],
                               initial="equity", widget=forms.RadioSelect)
    seed = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    fingerprint = forms.CharField(widget=forms.HiddenInput, max_length=64)
    # the newest need the preview read: needs filed after it wait for the next round instead of refusing this one
    needs_up_to = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=1, max_value=MAX_ID)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # the preview's selection travels with the confirmation unchanged
        self.fields["places"].widget = forms.MultipleHiddenInput()
        self.fields["items"].widget = forms.MultipleHiddenInput()
        self.fields["days"].widget = forms.HiddenInput()


class DeliverForm(forms.Form):
    code = forms.CharField(label=_("The household's code"), max_length=6, min_length=6,
                           widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))


class AssignForm(forms.Form):
    organisation = forms.ChoiceField(label=_("Give to an organisation"), required=False)

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        organisations = selectors.task_organisations(scope=scope)
        _choices(self.fields["organisation"], [("", _("nobody (any volunteer of the area)")),
                                               *[(a.pk, a.name) for a in organisations]])


class FailForm(forms.Form):
    reason = forms.ChoiceField(label=_("Why"), choices=list(FAILURE_REASONS.items()), widget=forms.RadioSelect)
    note = forms.CharField(label=_("Note"), required=False, max_length=200)
