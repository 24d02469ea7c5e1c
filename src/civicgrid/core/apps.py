from typing import Any

from django.apps import AppConfig
from django.core import checks


@checks.register()
def plugins_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from civicgrid.core.plugins import check_plugins

    return [checks.Error(problem, id="civicgrid.E001") for problem in check_plugins()]


class CoreConfig(AppConfig):
    name = "civicgrid.core"
    label = "core"
    verbose_name = "civicgrid core"
