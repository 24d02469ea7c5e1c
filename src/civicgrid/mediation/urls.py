from django.urls import path

from civicgrid.mediation import views

app_name = "mediation"
urlpatterns = [
    path("mediation/", views.case_list, name="list"),
    path("mediation/new/", views.case_new, name="new"),
    path("mediation/export.csv", views.case_export, name="export"),
    path("mediation/<int:case_id>/", views.case_detail, name="detail"),
    path("mediation/<int:case_id>/act/", views.case_act, name="act"),
]
