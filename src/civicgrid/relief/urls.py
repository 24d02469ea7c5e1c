from django.urls import path

from civicgrid.relief import views

app_name = "relief"
urlpatterns = [
    path("relief/needs/", views.need_list, name="needs"),
    path("relief/needs/new/", views.need_new, name="need_new"),
    path("relief/needs/<int:need_id>/", views.need_detail, name="need"),
    path("relief/needs/<int:need_id>/cancel/", views.need_cancel, name="need_cancel"),
    path("relief/my-needs/", views.my_needs, name="my_needs"),
    path("relief/stock/", views.stock, name="stock"),
    path("relief/stock/ledger/", views.ledger, name="ledger"),
    path("relief/offers/", views.offers, name="offers"),
    path("relief/offers/<int:offer_id>/next/", views.offer_step, name="offer_step"),
    path("relief/rounds/", views.rounds, name="rounds"),
    path("relief/rounds/preview/", views.round_preview, name="round_preview"),
    path("relief/rounds/<int:round_id>/", views.round_detail, name="round"),
    path("relief/rounds/confirmations/<int:confirmation_id>/", views.round_confirmation, name="round_confirmation"),
    path("relief/tasks/", views.tasks, name="tasks"),
    path("relief/tasks/<int:task_id>/", views.task_detail, name="task"),
    path("relief/tasks/<int:task_id>/claim/", views.task_claim, name="task_claim"),
    path("relief/tasks/<int:task_id>/release/", views.task_release, name="task_release"),
    path("relief/tasks/<int:task_id>/assign/", views.task_assign, name="task_assign"),
    path("relief/tasks/<int:task_id>/stops/<int:stop_id>/new-code/", views.stop_new_code, name="stop_new_code"),
    path("relief/tasks/<int:task_id>/stops/<int:stop_id>/deliver/", views.stop_deliver, name="stop_deliver"),
    path("relief/tasks/<int:task_id>/stops/<int:stop_id>/fail/", views.stop_fail, name="stop_fail"),
    path("relief/tasks/<int:task_id>/stops/<int:stop_id>/call/", views.stop_call, name="stop_call"),
]
