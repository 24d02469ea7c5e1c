from django.urls import path

from civicgrid.accounts import views

app_name = "accounts"
urlpatterns = [
    path("account/password/", views.PasswordChangeView.as_view(), name="password_change"),
]
