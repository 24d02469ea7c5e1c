"""What the home app contributes to the platform (see civicgrid.core.plugins): each role's home page at
"/" (the URL name ``home``, routed in config/urls.py), assembled from every app's ``work_items`` and
``glance`` hooks, and the large-text switch. It declares no hook of its own."""

from civicgrid.core.plugins import AppPlugin

PLUGIN = AppPlugin(urls=True)
