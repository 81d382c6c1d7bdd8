"""Email and SMS deliveries of broker notifications (SPEC §3): office sending settings,
the senders, and the ``deliveries`` job that sends what is due and retries what failed."""

from app.services.delivery.run import (
    BACKOFF_MINUTES,
    MAX_ATTEMPTS,
    NOT_SET_UP,
    DeliveryFailure,
    DeliveryRun,
    queue_deliveries,
    recent_failures,
    send_pending,
    send_pending_in,
    sending_status,
    test_email,
    test_sms,
)
from app.services.delivery.senders import SendFailed, send_email, send_sms
from app.services.delivery.settings import (
    TLS_MODES,
    DeliverySettings,
    SmsSettings,
    SmtpSettings,
    get_delivery_settings,
    save_delivery_settings,
)

__all__ = [
    "BACKOFF_MINUTES",
    "MAX_ATTEMPTS",
    "NOT_SET_UP",
    "TLS_MODES",
    "DeliveryFailure",
    "DeliveryRun",
    "DeliverySettings",
    "SendFailed",
    "SmsSettings",
    "SmtpSettings",
    "get_delivery_settings",
    "queue_deliveries",
    "recent_failures",
    "save_delivery_settings",
    "send_email",
    "send_pending",
    "send_pending_in",
    "send_sms",
    "sending_status",
    "test_email",
    "test_sms",
]
