"""Forms: each rejects a bad value with a message next to its field, using the same rules as imports."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from civicgrid.core.crypto import digests
from civicgrid.core.scoping import Scope, scoped
from civicgrid.registry import validation as v
from civicgrid.registry.models import Household, Place, Resident


class HouseholdForm(forms.ModelForm):  # type: ignore[type-arg]
    contact_phone = forms.CharField(label=_("contact phone"), required=False)

    class Meta:
        model = Household
        fields = ["building", "address", "housing_type", "income_status", "contact_phone"]

    def __init__(self, *args: Any, scope: Scope, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        building = self.fields["building"]
        building.queryset = scoped(Place.objects.filter(level="building"), scope)  # type: ignore[attr-defined]
        building.label_from_instance = lambda p: f"{p.code} {p.name}"  # type: ignore[attr-defined]

    def clean_contact_phone(self) -> str:
        return v.validate_phone(self.cleaned_data["contact_phone"])


class ResidentForm(forms.ModelForm):  # type: ignore[type-arg]
    id_number = forms.CharField(label=_("national ID number"), required=False)
    phone = forms.CharField(label=_("Phone"), required=False)
    birth_date = forms.DateField(label=_("birth date"), widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}))

    class Meta:
        model = Resident
        fields = ["name", "sex", "birth_date", "relation", "id_number", "phone", "lives_alone",
                  "disability_kind", "disability_grade", "chronic_illness", "pregnant", "limited_mobility",
                  "language_barrier", "mental_health_needs"]

    def __init__(self, *args: Any, scope: Scope | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scope = scope
        if scope is not None and not scope.identity_clearance and self.instance.pk:
            # Without identity clearance an existing resident's ID number and birth date are neither
            # shown (the form would print them in full) nor changed.
            del self.fields["id_number"], self.fields["birth_date"]

    def clean_phone(self) -> str:
        return v.validate_phone(self.cleaned_data["phone"])

    def clean_birth_date(self) -> date:
        return v.validate_birth_date(self.cleaned_data["birth_date"])

    def clean_id_number(self) -> str:
        value = self.cleaned_data["id_number"].strip()
        if not value:
            return ""
        value = v.validate_id_number(value)
        others = Resident.objects.filter(id_number_digest__in=digests(value))
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            if self.scope is None or scoped(others, self.scope).exists():
                raise forms.ValidationError(_("This ID number is already registered for another resident."))
            # Elsewhere in the registry: refuse (one person, one record) without confirming that the
            # number exists outside this user's area.
            raise forms.ValidationError(_("This ID number cannot be registered here. If it is correct, ask the "
                                          "community office to check it."))
        return value

    def clean_disability_grade(self) -> int | None:
        return v.validate_disability_grade(self.cleaned_data.get("disability_grade"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind, grade = data.get("disability_kind"), data.get("disability_grade")
        if grade and not kind:
            self.add_error("disability_kind", _("A disability grade needs a disability kind."))
        if kind and not grade:
            self.add_error("disability_grade", _("A disability kind needs a grade (1-4)."))
        id_number, birth = data.get("id_number"), data.get("birth_date")
        if id_number and birth and v.id_number_birth_date(id_number) != birth:
            self.add_error("birth_date", _("The birth date does not match the one in the ID number."))
        return data


class ImportForm(forms.Form):
    file = forms.FileField(label=_("Registry file (.zip of CSV files, .csv or .xlsx)"))
