from django.urls import path

from civicgrid.home import views

app_name = "home"
urlpatterns = [
    path("display/text-size/", views.text_size, name="text_size"),
]
