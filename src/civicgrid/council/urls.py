from django.urls import path

from civicgrid.council import views

app_name = "council"
urlpatterns = [
    path("council/", views.meetings, name="meetings"),
    path("council/meetings/new/", views.meeting_new, name="meeting_new"),
    path("council/meetings/<int:meeting_id>/", views.meeting_detail, name="meeting"),
    path("council/meetings/<int:meeting_id>/agenda/", views.agenda_add, name="agenda_add"),
    path("council/meetings/<int:meeting_id>/invite/", views.invite, name="invite"),
    path("council/meetings/<int:meeting_id>/attend/", views.attend, name="attend"),
    path("council/meetings/<int:meeting_id>/minutes/", views.minutes, name="minutes"),
    path("council/meetings/<int:meeting_id>/close/", views.close, name="close"),
    path("council/meetings/<int:meeting_id>/polls/", views.poll_open, name="poll_open"),
    path("council/meetings/<int:meeting_id>/decide/", views.decide, name="decide"),
    path("council/checkin/<str:code>/", views.checkin, name="checkin"),
    path("council/polls/<int:poll_id>/vote/", views.vote, name="vote"),
    path("council/polls/<int:poll_id>/close/", views.poll_close, name="poll_close"),
    path("council/decisions/", views.decisions, name="decisions"),
    path("council/decisions/<int:decision_id>/publish/", views.publish, name="publish"),
    path("council/decisions/<int:decision_id>/case/", views.decision_case, name="decision_case"),
    path("council/covenants/", views.covenants, name="covenants"),
    path("council/covenants/new/", views.covenant_new, name="covenant_new"),
    path("council/covenants/<int:covenant_id>/", views.covenant_detail, name="covenant"),
    path("council/covenants/<int:covenant_id>/draft/", views.version_draft, name="version_draft"),
    path("council/versions/<int:version_id>/", views.version_detail, name="version"),
    path("council/versions/<int:version_id>/clause/", views.clause_save, name="clause_save"),
    path("council/versions/<int:version_id>/adopt/", views.version_adopt, name="version_adopt"),
    path("council/versions/<int:version_id>/sign/", views.version_sign, name="version_sign"),
    path("council/clauses/<int:clause_id>/comment/", views.clause_comment, name="clause_comment"),
]
