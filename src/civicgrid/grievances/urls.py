from django.urls import path

from civicgrid.grievances import views

app_name = "grievances"
urlpatterns = [
    path("grievances/", views.grievance_list, name="list"),
    path("grievances/new/", views.grievance_new, name="new"),
    path("grievances/rates/", views.grievance_rates, name="rates"),
    path("grievances/<int:grievance_id>/", views.grievance_detail, name="detail"),
    path("grievances/<int:grievance_id>/act/", views.grievance_act, name="act"),
    path("grievances/<int:grievance_id>/appeal/", views.grievance_appeal, name="appeal"),
    path("grievances/<int:grievance_id>/appeals/<int:appeal_id>/decide/", views.appeal_decide, name="decide"),
]
