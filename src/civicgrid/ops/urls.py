from django.urls import path

from civicgrid.ops import views

app_name = "ops"
urlpatterns = [
    path("jobs/", views.job_list, name="jobs"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
]
