"""From the registry to the governance engine's inputs (civicgrid.engine.governance).

Areas are grids: a household's area is its grid; an actor serves the grids inside its service area,
or the whole community when its service area is the community or above. Capacities are the actors'
declared ones. Recorded contributions (resources given, decisions taken, work done) come from the
domain apps that record them: any app may provide ``governance.py`` with
``contributions(*, community: Place) -> list[engine Contribution]``; until one does, the engine falls back
to declared capacities and the report says so.
"""

from __future__ import annotations

from collections import Counter

from civicgrid.core.places import ancestor_at, ancestors
from civicgrid.core.plugins import governance_contributors
from civicgrid.engine import governance as gov
from civicgrid.registry.models import Actor, Household, Place, Post, vulnerable_score


def community_actors(community: Place):  # type: ignore[no-untyped-def]
    """Actors serving the community: those whose service area is the community, inside it, or above it."""
    return Actor.objects.filter(service_area__path__in=ancestors(community.path)) | Actor.objects.filter(
        service_area__path__startswith=community.path)


def governance_inputs(*, community: Place) -> gov.GovernanceInputs:
    if community.level != "community":
        raise ValueError(f"{community.code} is a {community.level}, not a community")
    grids = dict(Place.objects.filter(parent=community, level="grid").values_list("path", "code"))
    threshold = vulnerable_score()
    households = [
        gov.HouseholdInput(id=code, area=grid_code, vulnerable=score >= threshold)
        for code, grid_code, score in Household.objects.filter(place_path__startswith=community.path)
        .values_list("code", "grid__code", "vulnerability_score")
    ]
    actors = list(community_actors(community).select_related("service_area").distinct())
    posts = list(Post.objects.filter(actor__in=actors).select_related("person", "actor"))
    volunteers = Counter(p.actor_id for p in posts if p.role == "volunteer")
    totals = Counter(p.actor_id for p in posts)
    engine_actors = []
    for actor in actors:
        area = actor.service_area
        if area.path.startswith(community.path) and area.level in {"grid", "building"}:
            grid_path = ancestor_at(area.path, "grid")
            served: tuple[str, ...] = (grids[grid_path],) if grid_path in grids else ()
        else:
            served = ()  # the community or above: all of it
        engine_actors.append(gov.ActorInput(
            id=actor.code, name=actor.name, sector=actor.sector, kind=actor.kind,
            capacities=dict(actor.capacities or {}), service_area=served,
            # the share of the actor's capacity that rests on volunteers: its volunteer posts
            volunteer_share=volunteers[actor.id] / totals[actor.id] if totals[actor.id] else 0.0,
        ))
    engine_posts = [gov.PostInput(person_id=p.person.code, actor_id=p.actor.code, role=p.role, is_key=p.is_key)
                    for p in posts]
    serving = {a.id for a in engine_actors}  # a donor from elsewhere is not one of this community's actors
    contributions = [c for contribute in governance_contributors()
                     for c in contribute(community=community) if c.actor_id in serving]
    return gov.GovernanceInputs(community=community.code, actors=engine_actors, households=households,
                                posts=engine_posts, contributions=contributions)


def governance_report_for(*, community: Place,
                          scenarios: list[gov.StressScenario] | None = None) -> gov.GovernanceReport:
    return gov.governance_report(inputs=governance_inputs(community=community), scenarios=scenarios)
