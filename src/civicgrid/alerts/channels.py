"""Delivery channels. E-mail goes through Django's mail backends (settings.EMAIL_BACKEND). SMS goes
through a pluggable gateway named by ``settings.CIVICGRID_SMS_GATEWAY`` (``{"class": dotted path,
"options": {...}}``); the default writes each message to a JSON-lines file under the var directory,
so nothing leaves the machine until an operator configures :class:`WebhookSmsGateway` for a real
gateway."""

from __future__ import annotations

import http.client
import json
import os
import threading
import urllib.parse
import uuid
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils import timezone
from django.utils.module_loading import import_string

from civicgrid.core.crypto import decrypt, encrypt, mask


class GatewayError(Exception):
    """A channel refused or failed to take a message; the outbox retries it later."""


class SmsGateway(Protocol):
    def send(self, *, to: str, text: str) -> str:
        """Hand one message to the gateway; return its message id. Raise GatewayError on failure."""


class ConsoleSmsGateway:
    """Prints each message (numbers masked): for development."""

    def send(self, *, to: str, text: str) -> str:
        message_id = uuid.uuid4().hex
        print(f"SMS {message_id} to {mask(to)}: {text}")
        return message_id


class FileSmsGateway:
    """Appends each message as one JSON line to ``path`` (default ``<var>/sms/outbox.jsonl``).

    At rest the number is masked and the number with the text is sealed with the field key
    (``"sealed"``: Fernet, like the registry's encrypted fields), in a file only its owner may read:
    :meth:`messages` opens them again for an operator."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else _var_dir() / "sms" / "outbox.jsonl"

    def send(self, *, to: str, text: str) -> str:
        message_id = uuid.uuid4().hex
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        sealed = encrypt(json.dumps({"to": to, "text": text}, ensure_ascii=False))
        line = json.dumps({"id": message_id, "to": mask(to), "sealed": sealed, "at": timezone.now().isoformat()},
                          ensure_ascii=False)
        handle = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(handle, "a", encoding="utf-8") as out:
            out.write(line + "\n")
        return message_id

    def messages(self) -> list[dict[str, str]]:
        """Every message in the file, opened: ``{"id", "at", "to", "text"}``."""
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            opened = json.loads(decrypt(row["sealed"])) if "sealed" in row else {"to": row["to"], "text": row["text"]}
            out.append({"id": row["id"], "at": row["at"], **opened})
        return out


class WebhookSmsGateway:
    """A generic HTTP gateway: POSTs ``{"to": ..., "text": ...}`` as JSON to ``url`` (with a bearer
    token if given) and takes the message id from the JSON reply's ``id`` (or ``message_id``).

    Each sending thread keeps its own connection open between messages (HTTP/1.1 keep-alive): a
    district-wide alert is hundreds of thousands of requests, and a new TCP (and TLS) handshake for
    each would cost more than the message itself. When the server has closed a kept-alive connection,
    the message is sent again on a new one (it never reached the server); any other failure is the
    outbox's to retry."""

    def __init__(self, url: str, token: str = "", timeout: float = 5.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"WebhookSmsGateway url must be http(s)://..., got {url!r}")
        self.url, self.token, self.timeout = url, token, timeout
        parts = urllib.parse.urlsplit(url)
        self._https, self._host, self._port = parts.scheme == "https", parts.hostname or "", parts.port
        self._path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._local = threading.local()

    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            conn = self._local.conn = kind(self._host, self._port, timeout=self.timeout)
        return conn

    def _post(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        while True:
            reused = getattr(self._local, "conn", None) is not None
            conn = self._connection()
            try:
                conn.request("POST", self._path, body=body, headers=headers)
                response = conn.getresponse()
                return response.status, response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                conn.close()
                self._local.conn = None
                if not reused:  # only a kept-alive connection the server had closed is tried again
                    raise
            except (http.client.HTTPException, OSError):
                conn.close()
                self._local.conn = None
                raise

    def send(self, *, to: str, text: str) -> str:
        body = json.dumps({"to": to, "text": text}, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            status, reply = self._post(body, headers)
        except (http.client.HTTPException, OSError) as exc:
            raise GatewayError(f"gateway unreachable: {exc}") from exc
        if status >= 400:
            raise GatewayError(f"gateway answered HTTP {status}")
        try:
            data = json.loads(reply or b"{}")
        except ValueError:
            data = {}
        return str(data.get("id") or data.get("message_id") or "") if isinstance(data, dict) else ""


def _var_dir() -> Path:
    from civicgrid.config.settings.paths import VAR_DIR

    return Path(VAR_DIR)


def sms_gateway() -> SmsGateway:
    """The configured SMS gateway (FileSmsGateway unless settings.CIVICGRID_SMS_GATEWAY says otherwise)."""
    config: dict[str, Any] = getattr(settings, "CIVICGRID_SMS_GATEWAY", None) or {
        "class": "civicgrid.alerts.channels.FileSmsGateway", "options": {}}
    gateway_class = import_string(config["class"])
    return gateway_class(**config.get("options", {}))  # type: ignore[no-any-return]


def send_email(*, to: str, subject: str, body: str) -> str:
    """Send through Django's configured mail backend; raise GatewayError if it fails."""
    try:
        sent = EmailMessage(subject=subject[:200], body=body, to=[to], connection=get_connection()).send()
    except (OSError, ValueError) as exc:  # smtplib errors are OSErrors
        raise GatewayError(f"mail backend failed: {exc}") from exc
    if not sent:
        raise GatewayError("mail backend accepted nothing")
    return ""
