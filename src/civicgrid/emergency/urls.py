from django.urls import path

from civicgrid.emergency.views import checklists, isolation, modes, sweeps, templates

app_name = "emergency"
urlpatterns = [
    path("emergency/", modes.index, name="index"),
    path("emergency/now/", modes.now, name="now"),
    path("emergency/activate/", modes.activate, name="activate"),
    path("emergency/<int:emergency_id>/", modes.detail, name="detail"),
    path("emergency/<int:emergency_id>/deactivate/", modes.deactivate, name="deactivate"),
    path("emergency/<int:emergency_id>/sweep/", sweeps.sweep_start, name="sweep_start"),
    path("emergency/tasks/<int:task_id>/done/", modes.task_done, name="task_done"),
    path("emergency/drills/start/", modes.drill_start, name="drill_start"),
    path("emergency/drills/<int:drill_id>/", modes.drill, name="drill"),
    path("emergency/plans/", templates.plan_list, name="plans"),
    path("emergency/plans/<int:plan_id>/", templates.plan_detail, name="plan"),
    path("emergency/plans/<int:plan_id>/edit/", templates.plan_edit, name="plan_edit"),
    path("emergency/checklists/<int:template_id>/", templates.checklist_template, name="checklist_template"),
    path("emergency/checklists/<int:template_id>/today/", checklists.overview, name="checklist_overview"),
    path("emergency/checklists/<int:template_id>/sheet/", checklists.sheet, name="sheet"),
    path("emergency/sweeps/<int:sweep_id>/", sweeps.sweep, name="sweep"),
    path("emergency/sweeps/<int:sweep_id>/grids/<int:grid_id>/print/", sweeps.sweep_print, name="sweep_print"),
    path("emergency/visits/<int:visit_id>/", sweeps.visit, name="visit"),
    path("emergency/isolation/", isolation.isolation_list, name="isolations"),
    path("emergency/isolation/<int:isolation_id>/", isolation.isolation_detail, name="isolation"),
]
