from django.urls import path

from civicgrid.evaluation import views

app_name = "evaluation"
urlpatterns = [
    path("analytics/what-changed/", views.what_changed, name="what_changed"),
    path("analytics/what-changed/<int:comparison_id>/", views.comparison_page, name="comparison"),
    path("analytics/what-changed/<int:comparison_id>/rerun/", views.rerun, name="rerun"),
]
