"""What the social app contributes to the platform (see civicgrid.core.plugins)."""

from django.utils.translation import gettext_lazy as _

from civicgrid.core.plugins import AppPlugin, NavItem
from civicgrid.core.scoping import ScopeRule
from civicgrid.social import models as m
from civicgrid.social.board import TALLIES
from civicgrid.social.demo import demo_load
from civicgrid.social.events import SocialEvent
from civicgrid.social.governance import contributions
from civicgrid.social.guard import admission_guard
from civicgrid.social.work import glance, work_items

# an organisation is seen where it serves (and from above), and by its own staff
_ORG = ScopeRule(area_path="actor__service_area__path", serving_area_path="actor__service_area__path",
                 actor="actor_id")
# what belongs to an organisation is seen with it
_OF_ORG = ScopeRule(area_path="organisation__actor__service_area__path",
                    serving_area_path="organisation__actor__service_area__path", actor="organisation__actor_id")

PLUGIN = AppPlugin(
    tallies=TALLIES,
    urls=True,
    api=True,
    nav=(
        NavItem("social:organisations", _("Organisations"), "social", 40),
        NavItem("social:admissions", _("Admission"), "social", 41),
        NavItem("social:board", _("Who does what where"), "social", 42),
    ),
    access={
        "district_official": ("social", "social_manage"),
        "community_director": ("social", "social_manage"),
        "grid_member": ("social",),
        "org_staff": ("social",),
    },
    scope_rules={
        m.Organisation: _ORG,
        m.VerificationChange: _OF_ORG,
        m.StageChange: _OF_ORG,
        m.CapacityAssessment: _OF_ORG,
        m.AssessmentRating: ScopeRule(area_path="assessment__organisation__actor__service_area__path",
                                      actor="assessment__organisation__actor_id"),
        m.Training: _OF_ORG,
        m.Funding: _OF_ORG,
        m.Complaint: _OF_ORG,
        # an application lies in its grid; the applying organisation's staff see their own
        m.Admission: ScopeRule(area_path="grid__path", actor="actor_id"),
    },
    audit_events=SocialEvent,
    demo_load=demo_load,
    governance_contributions=contributions,
    work_items=work_items,
    glance=glance,
    work_guards=(admission_guard,),
)
