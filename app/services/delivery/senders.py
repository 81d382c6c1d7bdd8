"""The two ways a message leaves: SMTP (smtplib) and a Twilio-style form POST (urllib).

Each sender raises ``SendFailed`` with what went wrong in plain words.
"""

from __future__ import annotations

import base64
import smtplib
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from email.message import EmailMessage

from app.domain.errors import PerfDeskError
from app.services.delivery.settings import SmsSettings, SmtpSettings

TIMEOUT_SECONDS = 10.0

#: (settings, password or None, message) -> None, raising SendFailed.
SmtpSender = Callable[[SmtpSettings, str | None, EmailMessage], None]
#: (settings, token or None, to number, text) -> None, raising SendFailed.
SmsSender = Callable[[SmsSettings, str | None, str, str], None]


class SendFailed(PerfDeskError):
    """A message could not be sent; the text says why in plain words."""


def send_email(smtp: SmtpSettings, password: str | None, message: EmailMessage) -> None:
    """Send ``message`` through the office's SMTP server."""
    where = f"{smtp.host}:{smtp.port}"
    if smtp.user and not password:
        raise SendFailed(
            f"No password is kept in the keyring for the SMTP user {smtp.user}; enter it in "
            "the sending settings."
        )
    try:
        client: smtplib.SMTP
        if smtp.tls == "ssl":
            client = smtplib.SMTP_SSL(
                smtp.host, smtp.port, timeout=TIMEOUT_SECONDS, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=TIMEOUT_SECONDS)
        with client:
            if smtp.tls == "starttls":
                client.starttls(context=ssl.create_default_context())
            if smtp.user and password:
                client.login(smtp.user, password)
            client.send_message(message)
    except UnicodeEncodeError:
        raise SendFailed(
            "The SMTP user name or password has letters outside plain ASCII, which SMTP login "
            "cannot send."
        ) from None
    except smtplib.SMTPAuthenticationError:
        raise SendFailed(
            f"The SMTP server {where} did not accept the user name or password."
        ) from None
    except smtplib.SMTPRecipientsRefused as exc:
        refused = ", ".join(exc.recipients)
        raise SendFailed(f"The SMTP server {where} refused the address {refused}.") from None
    except smtplib.SMTPNotSupportedError:
        raise SendFailed(
            f"The SMTP server {where} does not offer STARTTLS; choose another TLS mode."
        ) from None
    except smtplib.SMTPResponseException as exc:
        text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else ""
        raise SendFailed(
            f"The SMTP server {where} answered {exc.smtp_code} {text}".strip()
        ) from None
    except ConnectionRefusedError:
        raise SendFailed(f"The SMTP server {where} refused the connection.") from None
    except TimeoutError:
        raise SendFailed(
            f"The SMTP server {where} did not answer within {TIMEOUT_SECONDS:.0f} s."
        ) from None
    except socket.gaierror:
        raise SendFailed(f"The SMTP server name {smtp.host} is not known.") from None
    except ssl.SSLError as exc:
        raise SendFailed(f"The secure connection to {where} failed: {exc.reason}.") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise SendFailed(f"Email could not be sent through {where}: {exc}") from None


def send_sms(sms: SmsSettings, token: str | None, to: str, body: str) -> None:
    """POST ``To``, ``From``, ``Body`` to the provider, with Basic auth ``account:token``."""
    data = urllib.parse.urlencode({"To": to, "From": sms.sender, "Body": body}).encode()
    request = urllib.request.Request(sms.endpoint, data=data, method="POST")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    if sms.account:
        if not token:
            raise SendFailed(
                f"No token is kept in the keyring for the SMS account {sms.account}; enter it "
                "in the sending settings."
            )
        credentials = base64.b64encode(f"{sms.account}:{token}".encode()).decode()
        request.add_header("Authorization", f"Basic {credentials}")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        reason = " ".join(str(exc.reason).split())
        raise SendFailed(f"The SMS provider answered {exc.code} {reason}".strip() + ".") from None
    except urllib.error.URLError as exc:
        raise SendFailed(
            f"The SMS provider at {sms.endpoint} could not be reached: {exc.reason}."
        ) from None
    except TimeoutError:
        raise SendFailed(
            f"The SMS provider did not answer within {TIMEOUT_SECONDS:.0f} s."
        ) from None
    except OSError as exc:
        raise SendFailed(f"The SMS could not be sent: {exc}") from None
    if not 200 <= status < 300:
        raise SendFailed(f"The SMS provider answered {status}.")
