import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civicgrid.config.settings")
application = get_wsgi_application()

# Refuse to serve with a field key that cannot read the stored data (a lost var/secrets.json).
from civicgrid.core.crypto import check_field_key  # noqa: E402

check_field_key()
