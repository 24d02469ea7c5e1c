from django.urls import path

from civicgrid.alerts import views

app_name = "alerts"
urlpatterns = [
    path("alerts/", views.alert_list, name="list"),
    path("alerts/new/", views.alert_new, name="new"),
    path("alerts/feed.atom", views.alert_feed, name="feed"),
    path("alerts/<int:alert_id>/", views.alert_detail, name="detail"),
    path("alerts/<int:alert_id>/cap.xml", views.alert_cap, name="cap"),
    path("alerts/<int:alert_id>/ack/", views.alert_acknowledge, name="ack"),
    path("alerts/<int:alert_id>/clarify/", views.alert_clarify, name="clarify"),
    path("notices/", views.notices, name="notices"),
    path("notices/read/", views.notices_read, name="notices_read"),
]
