from django.urls import path

from civicgrid.evaluation import views

app_name = "evaluation"
urlpatterns = [
    path("analytics/what-changed/", views.what_changed, name="what_changed"),
]
