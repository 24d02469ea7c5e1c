"""Helpers shared by the emergency services: who serves a place."""

from __future__ import annotations

from typing import Any

from django.db import models

from civicgrid.accounts import roles
from civicgrid.registry.models import Place, Post


def grid_member_users(grid_ids: list[int] | set[int]) -> Any:
    """Accounts of the grid members serving these grids (one definition: civicgrid.accounts.roles)."""
    return roles.grid_member_users(grid_ids)


def grids_of(community: Place) -> models.QuerySet[Place]:
    return Place.objects.filter(parent=community, level="grid").order_by("code")


def serves_grid_person(person_id: int | None, grid_id: int) -> bool:
    return bool(person_id) and Post.objects.filter(person_id=person_id or 0, role="grid_member", place_id=grid_id).exists()
