"""Emergency services, split by concern. Each is keyword-only, runs in one transaction and audits."""

from civicgrid.emergency.services.activation import (
    Activation,
    drill_start,
    emergency_activate,
    emergency_deactivate,
    live_task_complete,
)
from civicgrid.emergency.services.checklists import checklist_save
from civicgrid.emergency.services.isolation import (
    checkin_record,
    isolation_end,
    isolation_flag_missed,
    isolation_start,
)
from civicgrid.emergency.services.sweeps import sweep_assign, sweep_start, sweep_visit_record
from civicgrid.emergency.services.templates import (
    checklist_items_update,
    plan_update,
    template_editor,
    templates_editable,
)

__all__ = ["Activation", "checkin_record", "checklist_items_update", "checklist_save", "drill_start",
           "emergency_activate", "emergency_deactivate", "isolation_end", "isolation_flag_missed",
           "isolation_start", "plan_update", "sweep_assign", "sweep_start", "sweep_visit_record",
           "live_task_complete", "template_editor", "templates_editable"]
