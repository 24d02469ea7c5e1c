"""Emergency forms; errors show next to their fields."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civicgrid.core.crypto import digests
from civicgrid.core.scoping import Scope, scoped
from civicgrid.emergency.models import ChecklistItem, PlanTemplate
from civicgrid.emergency.models.isolation import SYMPTOMS
from civicgrid.emergency.models.templates import RESPONSE_LEVELS
from civicgrid.emergency.needs import relief_items
from civicgrid.emergency.selectors import modes
from civicgrid.registry.models import Place, Resident
from civicgrid.registry.pinyin import name_initials


class ActivateForm(forms.Form):
    community: forms.ModelChoiceField = forms.ModelChoiceField(  # type: ignore[type-arg]
        label=_("community"), queryset=Place.objects.none())
    plan: forms.ModelChoiceField = forms.ModelChoiceField(  # type: ignore[type-arg]
        label=_("plan"), queryset=PlanTemplate.objects.none())
    level = forms.ChoiceField(label=_("response level"), required=False,
                              choices=[("", _("the plan's default"))] + list(RESPONSE_LEVELS.items()))

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = modes.communities(scope=scope).order_by("code")  # type: ignore[attr-defined]
        self.fields["plan"].queryset = modes.plans()  # type: ignore[attr-defined]


class DrillForm(forms.Form):
    community: forms.ModelChoiceField = forms.ModelChoiceField(  # type: ignore[type-arg]
        label=_("community"), queryset=Place.objects.none())
    plan: forms.ModelChoiceField = forms.ModelChoiceField(  # type: ignore[type-arg]
        label=_("plan"), queryset=PlanTemplate.objects.none())

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["community"].queryset = modes.communities(scope=scope).order_by("code")  # type: ignore[attr-defined]
        self.fields["plan"].queryset = modes.plans()  # type: ignore[attr-defined]


class DeactivateForm(forms.Form):
    summary = forms.CharField(label=_("what happened"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)
    went_well = forms.CharField(label=_("what went well"), widget=forms.Textarea(attrs={"rows": 2}),
                                required=False, max_length=5000)
    to_improve = forms.CharField(label=_("what to improve"), widget=forms.Textarea(attrs={"rows": 2}),
                                 required=False, max_length=5000)
    confirm_open = forms.BooleanField(label=_("I know that work is still open and close the emergency anyway"),
                                      required=False)

    def __init__(self, *args: Any, open_work: modes.OpenWork | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.open_work = open_work
        if open_work is None or not open_work.any:
            del self.fields["confirm_open"]  # nothing open: nothing to confirm

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.open_work is not None and self.open_work.any and not data.get("confirm_open"):
            self.add_error("confirm_open", _("Tick this box to close the emergency while work is still open."))
        data.pop("confirm_open", None)
        return data


class PlanEditForm(forms.Form):
    document = forms.CharField(label=_("plan (YAML)"), widget=forms.Textarea(attrs={"rows": 30, "cols": 100,
                                                                                    "spellcheck": "false"}))


class ChecklistItemForm(forms.Form):
    id = forms.IntegerField(widget=forms.HiddenInput, required=False)
    text_zh = forms.CharField(label=_("text (Chinese)"), max_length=200, required=False)
    text_en = forms.CharField(label=_("text (English)"), max_length=200, required=False)
    kind = forms.ChoiceField(label=_("kind"), choices=ChecklistItem.Kind.choices, initial="item")
    active = forms.BooleanField(label=_("in use"), required=False, initial=True)


ChecklistItemFormSet = forms.formset_factory(ChecklistItemForm, extra=2)


def _add_relief_item(form: forms.Form) -> None:
    """Offer relief's catalogue (when relief is installed): a need naming an item goes to relief."""
    items = relief_items()
    if items:
        choices: list[tuple[str, Any]] = [("", _("none: file a case")), *items]
        form.fields["item"] = forms.ChoiceField(label=_("relief item"), required=False, choices=choices)
        form.fields["quantity"] = forms.IntegerField(label=_("quantity"), min_value=1, max_value=1000, initial=1,
                                                     required=False)


class VisitForm(forms.Form):
    outcome = forms.ChoiceField(label=_("outcome"), widget=forms.RadioSelect, choices=[
        ("safe", _("Safe")), ("needs_help", _("Needs help")), ("not_home", _("Not at home"))])
    need = forms.CharField(label=_("what they need"), required=False, max_length=1000,
                           widget=forms.Textarea(attrs={"rows": 2}))
    note = forms.CharField(label=_("note"), required=False, max_length=500)
    revisit_in_hours = forms.IntegerField(label=_("revisit in (hours)"), min_value=1, max_value=72, initial=4,
                                          required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _add_relief_item(self)


class IsolationForm(forms.Form):
    resident = forms.CharField(label=_("resident: name, code or ID number"), max_length=40)
    start_date = forms.DateField(label=_("start"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))
    end_date = forms.DateField(label=_("end"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))
    reason = forms.CharField(label=_("reason"), max_length=200, required=False)

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scope = scope
        today = timezone.localdate()
        self.fields["start_date"].initial = today
        self.fields["end_date"].initial = today + timedelta(days=13)

    def clean_resident(self) -> Resident:
        """The resident by code, ID number or name (whole or part, or pinyin initials) in the user's area;
        when a name fits several people, the message lists them with their codes to choose from."""
        value = self.cleaned_data["resident"].strip()
        residents = scoped(Resident.objects.select_related("household"), self.scope)
        found = residents.filter(code=value).first() or residents.filter(id_number_digest__in=digests(value)).first()
        if found is not None:
            return found
        by_name = residents.filter(name=value)
        if not by_name.exists():
            initials = name_initials(value) if value.isascii() and value.isalpha() else ""
            by_name = residents.filter(name_initials=initials) if initials else residents.filter(name__icontains=value)
        matches = list(by_name.order_by("name", "code")[:6])
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise forms.ValidationError(_("No resident with this name, code or ID number in your area."))
        raise forms.ValidationError(_("Several residents match; type the code of the one you mean: %(list)s") % {
            "list": "; ".join(f"{r.name} {r.code} ({r.household.address})" for r in matches[:5])})


class CheckInForm(forms.Form):
    day = forms.DateField(label=_("day"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))
    temperature = forms.DecimalField(label=_("temperature (°C)"), max_digits=3, decimal_places=1,
                                     widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal",
                                                                    "min": "34.0", "max": "43.0"}))
    symptoms = forms.MultipleChoiceField(label=_("symptoms"), required=False, widget=forms.CheckboxSelectMultiple,
                                         choices=list(SYMPTOMS.items()))
    needs = forms.CharField(label=_("needs (food, medicine, help)"), required=False, max_length=500,
                            widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["day"].initial = timezone.localdate()
        _add_relief_item(self)
