from django.urls import path

from civicgrid.cases import views

app_name = "cases"
urlpatterns = [
    path("cases/", views.case_list, name="list"),
    path("cases/new/", views.case_new, name="new"),
    path("cases/figures/", views.case_figures, name="figures"),
    path("cases/<int:case_id>/", views.case_detail, name="detail"),
    path("cases/<int:case_id>/act/", views.case_act, name="act"),
    path("cases/<int:case_id>/photo/", views.case_photo, name="photo"),
]
