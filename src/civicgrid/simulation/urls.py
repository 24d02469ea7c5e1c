from django.urls import path

from civicgrid.simulation import views

app_name = "simulation"
urlpatterns = [
    path("simulation/", views.index, name="index"),
    path("simulation/<int:run_id>/", views.run_page, name="run"),
    path("simulation/<int:run_id>/rerun/", views.rerun, name="rerun"),
]
