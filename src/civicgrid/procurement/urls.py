from django.urls import path

from civicgrid.procurement import views

app_name = "procurement"
urlpatterns = [
    path("procurement/", views.calls, name="calls"),
    path("procurement/appropriations/new/", views.appropriation_new, name="appropriation_new"),
    path("procurement/calls/new/", views.call_new, name="call_new"),
    path("procurement/calls/<int:call_id>/", views.call_detail, name="call"),
    path("procurement/calls/<int:call_id>/reviewers/", views.call_reviewer, name="call_reviewer"),
    path("procurement/calls/<int:call_id>/apply/", views.call_apply, name="apply"),
    path("procurement/calls/<int:call_id>/award/", views.call_award, name="award"),
    path("procurement/calls/<int:call_id>/ocds.json", views.call_ocds, name="ocds"),
    path("procurement/applications/<int:application_id>/", views.application_detail, name="application"),
    path("procurement/applications/<int:application_id>/score/", views.application_score, name="application_score"),
    path("procurement/contracts/", views.contracts, name="contracts"),
    path("procurement/contracts/<int:contract_id>/", views.contract_detail, name="contract"),
    path("procurement/milestones/<int:milestone_id>/decide/", views.milestone_decide, name="milestone_decide"),
    path("procurement/milestones/<int:milestone_id>/pay/", views.milestone_pay, name="milestone_pay"),
    path("procurement/payments/", views.payments, name="payments"),
]
