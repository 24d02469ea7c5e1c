from django.urls import path

from civicgrid.registry import views

app_name = "registry"
urlpatterns = [
    path("places/", views.place_browse, name="places"),
    path("places/<int:place_id>/", views.place_browse, name="place"),
    path("households/", views.household_search, name="households"),
    path("households/suggest/", views.household_suggest, name="household_suggest"),
    path("households/<int:household_id>/", views.household_detail, name="household"),
    path("households/<int:household_id>/edit/", views.household_edit, name="household_edit"),
    path("households/<int:household_id>/residents/add/", views.resident_add, name="resident_add"),
    path("residents/<int:resident_id>/edit/", views.resident_edit, name="resident_edit"),
    path("actors/", views.actor_list, name="actors"),
    path("actors/<int:actor_id>/", views.actor_detail, name="actor"),
    path("registry/import/", views.registry_import, name="import"),
    path("registry/import/template.xlsx", views.registry_import_template, name="import_template"),
    path("registry/export/", views.registry_export, name="export"),
    path("audit/", views.audit_log, name="audit"),
]
