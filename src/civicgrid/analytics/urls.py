from django.urls import path

from civicgrid.analytics import views

app_name = "analytics"
urlpatterns = [
    path("analytics/governance/", views.governance, name="governance"),
    path("analytics/crei/", views.crei_page, name="crei"),
    path("analytics/plotly.js", views.plotly_js, name="plotly_js"),
]
