"""Emergency models, split by concern: shipped templates, live operations, checklists, sweeps and
home isolation."""

from civicgrid.emergency.models.checklists import ChecklistCompletion
from civicgrid.emergency.models.isolation import CheckIn, Isolation, MissedCheckIn
from civicgrid.emergency.models.operations import Drill, Emergency, LiveTask
from civicgrid.emergency.models.sweeps import Sweep, SweepVisit
from civicgrid.emergency.models.templates import ChecklistItem, ChecklistTemplate, PlanTemplate

__all__ = ["ChecklistCompletion", "ChecklistItem", "ChecklistTemplate", "CheckIn", "Drill", "Emergency",
           "Isolation", "LiveTask", "MissedCheckIn", "PlanTemplate", "Sweep", "SweepVisit"]
