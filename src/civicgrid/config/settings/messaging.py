"""Outgoing messages: e-mail and SMS for alerts (civicgrid.alerts). Nothing leaves the machine unless
configured: by default e-mails are written as files under var/mail/ and SMS as JSON lines under
var/sms/.

CIVICGRID_SMTP_HOST (with CIVICGRID_SMTP_PORT, CIVICGRID_SMTP_USER, CIVICGRID_SMTP_PASSWORD,
CIVICGRID_SMTP_TLS=1) sends e-mail through an SMTP server; CIVICGRID_SMS_WEBHOOK_URL (with
CIVICGRID_SMS_WEBHOOK_TOKEN) posts each SMS as JSON {"to", "text"} to a real gateway, or a batch as
{"messages": [...]} when CIVICGRID_SMS_BATCH_SIZE is above 1 (civicgrid.alerts.channels.WebhookSmsGateway).

CIVICGRID_SMS_BATCH_SIZE   numbers per gateway request (default 1; Tencent Cloud's SendSms takes up to 200)
CIVICGRID_SMS_RATE         the gateway's limit, messages per second, kept by all senders together (default 0: none)
CIVICGRID_SMS_CONCURRENCY  gateway requests in flight at once in one sender (default 16)
CIVICGRID_SMS_SENDERS      sending jobs queued per published alert (default: the job queue's worker processes)
"""

import os

from civicgrid.config.settings.paths import VAR_DIR

DEFAULT_FROM_EMAIL = os.environ.get("CIVICGRID_FROM_EMAIL", "civicgrid@localhost")
if os.environ.get("CIVICGRID_SMTP_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = os.environ["CIVICGRID_SMTP_HOST"]
    EMAIL_PORT = int(os.environ.get("CIVICGRID_SMTP_PORT", "25"))
    EMAIL_HOST_USER = os.environ.get("CIVICGRID_SMTP_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("CIVICGRID_SMTP_PASSWORD", "")
    EMAIL_USE_TLS = os.environ.get("CIVICGRID_SMTP_TLS", "0") == "1"
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"

_sms_limits = {"batch_size": int(os.environ.get("CIVICGRID_SMS_BATCH_SIZE", "1")),
               "rate": float(os.environ.get("CIVICGRID_SMS_RATE", "0"))}
if os.environ.get("CIVICGRID_SMS_WEBHOOK_URL"):
    CIVICGRID_SMS_GATEWAY = {
        "class": "civicgrid.alerts.channels.WebhookSmsGateway",
        "options": {"url": os.environ["CIVICGRID_SMS_WEBHOOK_URL"],
                    "token": os.environ.get("CIVICGRID_SMS_WEBHOOK_TOKEN", "")},
        **_sms_limits,
    }
else:
    CIVICGRID_SMS_GATEWAY = {"class": "civicgrid.alerts.channels.FileSmsGateway", "options": {}, **_sms_limits}

CIVICGRID_SMS_CONCURRENCY = int(os.environ.get("CIVICGRID_SMS_CONCURRENCY", "16"))
CIVICGRID_SMS_SENDERS = int(os.environ.get("CIVICGRID_SMS_SENDERS", "0"))  # 0: one per job worker process
