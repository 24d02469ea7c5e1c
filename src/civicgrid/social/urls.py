from django.urls import path

from civicgrid.social import views

app_name = "social"
urlpatterns = [
    path("organisations/", views.organisations, name="organisations"),
    path("organisations/register/", views.register, name="register"),
    path("organisations/<int:organisation_id>/", views.organisation, name="organisation"),
    path("organisations/<int:organisation_id>/verification/", views.verify, name="verify"),
    path("organisations/<int:organisation_id>/stage/", views.stage, name="stage"),
    path("organisations/<int:organisation_id>/assessment/", views.assess, name="assess"),
    path("organisations/<int:organisation_id>/training/", views.training, name="training"),
    path("organisations/<int:organisation_id>/funding/", views.funding, name="funding"),
    path("organisations/<int:organisation_id>/complaint/", views.complain, name="complain"),
    path("organisations/<int:organisation_id>/complaints/<int:complaint_id>/resolve/", views.complaint_resolve,
         name="complaint_resolve"),
    path("organisations/admission/", views.admissions, name="admissions"),
    path("organisations/admission/<int:admission_id>/decide/", views.decide, name="decide"),
    path("organisations/3w/", views.board, name="board"),
    path("organisations/3w/export/", views.board_export, name="board_export"),
]
