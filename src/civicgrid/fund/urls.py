from django.urls import path

from civicgrid.fund import views

app_name = "fund"
urlpatterns = [
    path("fund/", views.index, name="index"),
    path("fund/funds/<int:fund_id>/", views.fund_detail, name="fund"),
    path("fund/rounds/<int:round_id>/", views.round_detail, name="round"),
    path("fund/rounds/<int:round_id>/propose/", views.propose, name="propose"),
    path("fund/rounds/<int:round_id>/advance/", views.advance, name="advance"),
    path("fund/rounds/<int:round_id>/publish/", views.publish, name="publish"),
    path("fund/rounds/<int:round_id>/codes/", views.codes, name="codes"),
    path("fund/rounds/<int:round_id>/paper/", views.paper, name="paper"),
    path("fund/rounds/<int:round_id>/vote/", views.vote, name="vote"),
    path("fund/proposals/<int:proposal_id>/cosign/", views.cosign, name="cosign"),
    path("fund/proposals/<int:proposal_id>/review/", views.review, name="review"),
    path("fund/proposals/<int:proposal_id>/spend/", views.spend, name="spend"),
]
