from django.contrib.auth import views as auth_views
from django.urls import include, path

from civicgrid.accounts import views as accounts_views
from civicgrid.config.api import api
from civicgrid.core.plugins import app_module, plugins
from civicgrid.home import views as home_views

handler500 = "civicgrid.core.views.server_error"  # shows the request id (civicgrid.core.logs)

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", api.urls),
    path("login/", accounts_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", home_views.home, name="home"),
]
# Each domain app's pages, at the root under its own namespace (see civicgrid.core.plugins).
urlpatterns += [path("", include(app_module(label, "urls"))) for label, plugin in plugins().items() if plugin.urls]
