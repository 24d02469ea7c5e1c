"""Languages: Simplified Chinese (the first users' language) and English."""

from django.utils.translation import gettext_lazy as _

from civicgrid.config.settings.paths import PACKAGE_DIR

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "Asia/Shanghai"
