"""Office-wide sending settings: the SMTP server for email and the HTTP provider for SMS.

Stored in ``app_settings`` (keys ``delivery.smtp`` and ``delivery.sms``, JSON values) so every
workstation sends the same way. The SMTP password and the SMS token are never stored there:
they live only in the system keyring (service ``PerfDesk``), and a computer without a safe
keyring keeps none (``connection.keyring_available``); nothing secret is written to a file.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.db.models.people import AppSetting
from app.domain.errors import ConflictError, DatabaseProblem, ValidationError
from app.services.connection import KEYRING_SERVICE, KeyringUnavailable, keyring_available
from app.services.database import Database
from app.services.dberrors import explain

SMTP_KEY = "delivery.smtp"
SMS_KEY = "delivery.sms"
TLS_MODES: tuple[str, ...] = ("none", "starttls", "ssl")
DEFAULT_SMTP_PORT = {"none": 25, "starttls": 587, "ssl": 465}


@dataclass(frozen=True)
class SmtpSettings:
    """How email leaves the office; an empty ``host`` means email is not set up."""

    host: str = ""
    port: int = 587
    tls: str = "starttls"  # "none", "starttls" or "ssl"
    user: str = ""
    from_address: str = ""

    @property
    def configured(self) -> bool:
        return bool(self.host and self.from_address)

    @property
    def keyring_key(self) -> str:
        return f"smtp:{self.user}@{self.host}:{self.port}"


@dataclass(frozen=True)
class SmsSettings:
    """A Twilio-style HTTP provider; an empty ``endpoint`` means SMS is not set up."""

    endpoint: str = ""  # the URL the form is POSTed to
    account: str = ""  # the Basic-auth user (the provider's account id)
    sender: str = ""  # the number messages come from

    @property
    def configured(self) -> bool:
        return bool(self.endpoint and self.sender)

    @property
    def keyring_key(self) -> str:
        return f"sms:{self.account}@{self.endpoint}"


@dataclass(frozen=True)
class DeliverySettings:
    smtp: SmtpSettings
    sms: SmsSettings
    smtp_password_kept: bool = False
    sms_token_kept: bool = False
    keyring: bool = True  # False: this computer has no safe keyring


# -- checking ---------------------------------------------------------------------------------


def check_smtp(smtp: SmtpSettings) -> dict[str, str]:
    """What is wrong with each SMTP field (empty: fine). All empty is fine: email is off."""
    errors: dict[str, str] = {}
    if not (smtp.host or smtp.user or smtp.from_address):
        return errors
    if not smtp.host:
        errors["host"] = "Enter the SMTP server's host name."
    elif any(ch.isspace() or ch in "/@?#" for ch in smtp.host):
        errors["host"] = "A host name has no spaces and none of / @ ? #."
    if not 1 <= smtp.port <= 65535:
        errors["port"] = "The port is a whole number from 1 to 65535."
    if smtp.tls not in TLS_MODES:
        errors["tls"] = "Choose none, STARTTLS or SSL."
    address = smtp.from_address
    if not address or "@" not in address or any(ch.isspace() for ch in address):
        errors["from_address"] = "Enter the address email is sent from, like office@example.com."
    return errors


def check_sms(sms: SmsSettings) -> dict[str, str]:
    """What is wrong with each SMS field (empty: fine). All empty is fine: SMS is off."""
    errors: dict[str, str] = {}
    if not (sms.endpoint or sms.account or sms.sender):
        return errors
    if not sms.endpoint.startswith(("http://", "https://")) or " " in sms.endpoint:
        errors["endpoint"] = "Enter the provider's URL, starting with https://."
    if not sms.sender:
        errors["sender"] = "Enter the number messages are sent from."
    return errors


# -- the keyring ------------------------------------------------------------------------------


def load_secret(key: str) -> str | None:
    """A secret kept in the keyring, or None (also when there is no safe keyring)."""
    if not key or not keyring_available():
        return None
    import keyring
    from keyring.errors import KeyringError

    try:
        value = keyring.get_password(KEYRING_SERVICE, key)
    except KeyringError:
        return None
    return value if isinstance(value, str) else None


def save_secret(key: str, secret: str) -> None:
    """Keep a secret in the keyring only; KeyringUnavailable when there is no safe one."""
    if not keyring_available():
        raise KeyringUnavailable(
            "This computer has no system keyring that PerfDesk can use, so it cannot keep the "
            "password; it was not saved anywhere."
        )
    import keyring
    from keyring.errors import KeyringError

    try:
        keyring.set_password(KEYRING_SERVICE, key, secret)
    except KeyringError as exc:
        raise KeyringUnavailable(f"The system keyring refused the password: {exc}") from exc


# -- reading and saving -----------------------------------------------------------------------


def _json(s: Session, key: str) -> dict[str, Any]:
    row = s.get(AppSetting, key)
    if row is None:
        return {}
    try:
        value = json.loads(row.value)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _smtp_of(data: dict[str, Any]) -> SmtpSettings:
    try:
        port = int(data.get("port", 587))
    except (TypeError, ValueError):
        port = 587
    return SmtpSettings(
        host=str(data.get("host", "")),
        port=port,
        tls=str(data.get("tls", "starttls")),
        user=str(data.get("user", "")),
        from_address=str(data.get("from_address", "")),
    )


def _sms_of(data: dict[str, Any]) -> SmsSettings:
    return SmsSettings(
        endpoint=str(data.get("endpoint", "")),
        account=str(data.get("account", "")),
        sender=str(data.get("sender", "")),
    )


def read_smtp(s: Session) -> SmtpSettings:
    return _smtp_of(_json(s, SMTP_KEY))


def read_sms(s: Session) -> SmsSettings:
    return _sms_of(_json(s, SMS_KEY))


def get_delivery_settings(db: Database) -> DeliverySettings:
    """The office's sending settings and whether a password / token is kept in the keyring."""
    try:
        with db.read() as s:
            smtp, sms = read_smtp(s), read_sms(s)
    except DBAPIError as exc:
        raise DatabaseProblem(explain(exc, db.describe())) from exc
    return DeliverySettings(
        smtp,
        sms,
        smtp_password_kept=bool(smtp.host) and load_secret(smtp.keyring_key) is not None,
        sms_token_kept=bool(sms.endpoint) and load_secret(sms.keyring_key) is not None,
        keyring=keyring_available(),
    )


def _store(s: Session, key: str, value: dict[str, Any]) -> None:
    text = json.dumps(value, sort_keys=True)
    row = s.get(AppSetting, key)
    if row is None:
        s.add(AppSetting(key=key, value=text))
    elif row.value != text:
        row.value = text


def save_delivery_settings(
    db: Database,
    smtp: SmtpSettings,
    sms: SmsSettings,
    smtp_password: str | None = None,
    sms_token: str | None = None,
) -> DeliverySettings:
    """Store both settings; a password / token given (not None, not empty) goes to the keyring.

    ValidationError naming every bad field; KeyringUnavailable, before anything is stored, when
    a secret is given and this computer has no safe keyring.
    """
    smtp = SmtpSettings(
        smtp.host.strip(), smtp.port, smtp.tls, smtp.user.strip(), smtp.from_address.strip()
    )
    sms = SmsSettings(sms.endpoint.strip(), sms.account.strip(), sms.sender.strip())
    errors = {**check_smtp(smtp), **{f"sms_{k}": v for k, v in check_sms(sms).items()}}
    if errors:
        raise ValidationError(" ".join(errors.values()))
    if (smtp_password or sms_token) and not keyring_available():
        raise KeyringUnavailable(
            "This computer has no system keyring that PerfDesk can use, so it cannot keep the "
            "password or token; nothing was saved."
        )
    try:
        with db.session() as s:
            _store(s, SMTP_KEY, asdict(smtp))
            _store(s, SMS_KEY, asdict(sms))
    except StaleDataError:
        raise ConflictError(
            "Another workstation changed the sending settings at the same moment; nothing was "
            "saved. Look at the current values and try again."
        ) from None
    except DBAPIError as exc:
        raise DatabaseProblem(explain(exc, db.describe())) from exc
    if smtp_password:
        save_secret(smtp.keyring_key, smtp_password)
    if sms_token:
        save_secret(sms.keyring_key, sms_token)
    return get_delivery_settings(db)
