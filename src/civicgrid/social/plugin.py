"""What the social app contributes to the platform (see civicgrid.core.plugins)."""

from civicgrid.core.plugins import AppPlugin
from civicgrid.core.scoping import ScopeRule
from civicgrid.social import models as m
from civicgrid.social.events import SocialEvent

PLUGIN = AppPlugin(
    scope_rules={
        m.Organisation: ScopeRule(area_path="actor__service_area__path",
                                  serving_area_path="actor__service_area__path", actor="actor_id"),
    },
    audit_events=SocialEvent,
)
