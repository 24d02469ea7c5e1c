from django.urls import path

from civicgrid.volunteers import views

app_name = "volunteers"
urlpatterns = [
    path("volunteers/", views.home, name="home"),
    path("volunteers/register/", views.register, name="register"),
    path("volunteers/<int:volunteer_id>/", views.profile, name="profile"),
    path("volunteers/<int:volunteer_id>/courses/", views.certificate_grant, name="certificate_grant"),
    path("volunteers/<int:volunteer_id>/certificate/", views.certificate, name="certificate"),
    path("volunteers/hours/", views.hours, name="hours"),
    path("volunteers/hours/<int:entry_id>/decide/", views.hours_decide, name="hours_decide"),
    path("volunteers/visits/", views.visits, name="visits"),
    path("volunteers/visits/<int:visit_id>/", views.visit, name="visit"),
    path("volunteers/visits/<int:visit_id>/claim/", views.visit_claim, name="visit_claim"),
    path("volunteers/visits/<int:visit_id>/record/", views.visit_record, name="visit_record"),
    path("volunteers/helpers/", views.helpers, name="helpers"),
    path("volunteers/time-bank/", views.timebank, name="timebank"),
]
