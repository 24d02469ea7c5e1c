"""Settings, split by concern. Each module reads its own environment variables (CIVICGRID_*)."""

from civicgrid.config.settings.base import *  # noqa: F403
from civicgrid.config.settings.civicgrid import *  # noqa: F403
from civicgrid.config.settings.database import *  # noqa: F403
from civicgrid.config.settings.i18n import *  # noqa: F403
from civicgrid.config.settings.jobs import *  # noqa: F403
from civicgrid.config.settings.messaging import *  # noqa: F403
from civicgrid.config.settings.observability import *  # noqa: F403
from civicgrid.config.settings.security import *  # noqa: F403
from civicgrid.config.settings.web import *  # noqa: F403  (last: production mode overrides the others)
