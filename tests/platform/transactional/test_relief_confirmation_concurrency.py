"""Background round confirmations under real concurrency (threads with their own connections and commits): a
double tap, or officials confirming the same selection at once, queue one confirmation; two deliveries of its job
at once (a retry while the first still runs) write one round."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from civicgrid.accounts.models import Role
from civicgrid.accounts.roles import scope_for
from civicgrid.core.errors import Conflict
from civicgrid.registry.models import Place
from civicgrid.relief import jobs, selectors, services
from civicgrid.relief.models import (
    AllocationRound,
    Need,
    RoundConfirmation,
)
from tests.platform.transactional.racing import race
from tests.platform.transactional.test_relief_concurrency import needs_world

pytestmark = pytest.mark.django_db(transaction=True)


def _world(households: int = 12) -> tuple[Any, dict[str, Any]]:
    """A district of its own: one community, a food need per household, stock for half of them, and an official
    of the district with a login."""
    district, community, item = needs_world(households=households, stock=households)
    tag = uuid.uuid4().hex[:6].upper()
    official = get_user_model().objects.create(username=f"{tag}-official")
    Role.objects.create(user=official, role="district_official", place=Place.objects.get(pk=district.pk))
    return official, {"place_ids": [community.pk], "item_codes": [item.code], "days": 1}


def _request(official: Any, selection: dict[str, Any]) -> RoundConfirmation:
    scope = scope_for(official)
    preview = selectors.round_preview(scope=scope, seed=1, **selection)
    return services.round_confirmation_request(user=official, scope=scope, policy="equity", seed=1,
                                               fingerprint=preview.inputs.fingerprint,
                                               n_requests=len(preview.inputs.requests), **selection)


def test_officials_confirming_the_same_selection_at_once_queue_one_confirmation() -> None:
    official, selection = _world()
    results = race([lambda: _request(official, selection) for _ in range(6)])
    made = [r for r in results if isinstance(r, RoundConfirmation)]
    assert len(made) == 1, results
    assert all(isinstance(r, Conflict) for r in results if r not in made), results
    assert RoundConfirmation.objects.count() == 1


def test_two_deliveries_of_the_job_at_once_write_one_round() -> None:
    official, selection = _world()
    confirmation = _request(official, selection)
    results = race([lambda: jobs.run_round_confirmation(confirmation.pk) for _ in range(2)])
    assert not any(isinstance(r, Exception) for r in results), results
    confirmation.refresh_from_db()
    round = AllocationRound.objects.get()
    assert confirmation.status == RoundConfirmation.Status.DONE and confirmation.round_id == round.pk
    allocated = sum(Need.objects.values_list("allocated_quantity", flat=True))
    assert allocated == round.units_allocated == 12  # the stock given once, not twice


def _api_client(official: Any) -> Any:
    from django.test import Client

    client = Client(headers={"accept-language": "en"})
    client.force_login(official)
    return client


@pytest.mark.parametrize(("threshold", "made"), [(10**6, 201), (1, 202)])
def test_one_preview_confirmed_at_once_through_the_api_makes_one_round_or_one_confirmation(
        settings: Any, threshold: int, made: int) -> None:
    """A previewed round confirmed by several requests at once (a double tap, two tabs): below the threshold one
    round (the others find the needs changed since the preview: 409); from it on, one queued confirmation (the
    others: already being confirmed, 409)."""
    settings.CIVICGRID_RELIEF = {"background_requests": threshold}
    official, selection = _world()
    body = {"places": selection["place_ids"], "items": selection["item_codes"], "days": selection["days"]}
    preview = _api_client(official).post("/api/relief/rounds/preview", {**body, "seed": 1},
                                         content_type="application/json").json()
    confirm = {**body, "policy": "equity", "seed": 1, "n_requests": preview["n_requests"],
               "fingerprint": preview["fingerprint"]}
    results = race([lambda: _api_client(official).post("/api/relief/rounds/confirm", confirm,
                                                        content_type="application/json").status_code
                     for _ in range(4)])
    assert sorted(results) == [made] + [409] * 3, results
    assert AllocationRound.objects.count() == (made == 201)
    assert RoundConfirmation.objects.count() == (made == 202)
