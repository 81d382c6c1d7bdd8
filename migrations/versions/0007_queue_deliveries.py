"""Email/SMS deliveries of a notification raised by a person's own login (issue 3 item 5).

In shared mode an agent's login raises their broker's notification through 0005's SECURITY
DEFINER ``notify_broker_for``, but the email/SMS rows (``notification_deliveries``) were never
queued: the service returned after the call, and the agent's login could not have queued them
anyway (the recipient-only policy hides the broker's notification from it, so
``queue_deliveries`` found nothing, and an insert is refused with SQLSTATE 42501). The broker
got the in-app notification and never the email or SMS.

This adds ``perfdesk_queue_deliveries(note_id)``: the SQL twin of the Python
``app.services.delivery.run.queue_deliveries``, deciding the same channels (the broker's
switches, ``min_escrow_value``, the office's SMTP/SMS set-up, the broker's email and phone).
SECURITY INVOKER, EXECUTE granted to nobody: only the owner runs it, in practice from inside
``notify_broker_for``, which this replaces (same signature, same grants) so that it

- refuses, returning NULL, a notification the broker's settings do not want (the type's
  switch, the in-app channel, ``min_escrow_value`` for escrows): the server applies the rule
  the service applies before calling, so calling ``notify_broker`` from ``psql`` gets no more;
- refuses, returning NULL, a second ``*.created`` notification about the same record (one
  escrow, client or listing is created once; only ``escrow.closed`` may come again, after a
  reopening): calling it again and again queues no stream of emails to the broker;
- keeps at most 2,000 characters of the body (the service writes some 500 at most);
- inserts the notification and queues its deliveries in the same transaction.

A login can therefore queue deliveries only for the notification it raises about a record it
sees, to that record owner's broker, as the broker's settings say; it reads none of them. The
``perfdesk_`` prefix puts the new function in the set tests/services/pg/test_security_schema.py
pins (``app.db.security.LATER_FUNCTIONS``). SQLite has no roles: nothing to do there (the
service queues in Python). Downgrade restores 0005's ``notify_broker_for`` and drops the new
function.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEARCH_PATH = "pg_catalog, public, pg_temp"
_PARAMS = "kind text, record_id integer, title text, body text"
QUEUE = "perfdesk_queue_deliveries(integer)"
#: The body kept of a notification raised through the definer.
MAX_BODY = 2000
#: What Python's ``str.strip()`` removes of a phone number that btrim is told to remove too
#: (ASCII whitespace; run.py strips the same set).
_BLANK = "' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13)"


def _wanted(setting: str, kind: str, price: str) -> str:
    """The broker's settings want a notification of ``kind`` at ``price`` (a settings row)."""
    return f"""(
    CASE {kind}
      WHEN 'escrow.created' THEN {setting}.notify_escrow_created
      WHEN 'escrow.closed' THEN {setting}.notify_escrow_closed
      WHEN 'client.created' THEN {setting}.notify_client_created
      WHEN 'listing.created' THEN {setting}.notify_listing_created
      ELSE false
    END
    AND {setting}.channel_in_app
    AND ({kind} NOT IN ('escrow.created', 'escrow.closed')
         OR {setting}.min_escrow_value IS NULL
         OR ({price} IS NOT NULL AND {price} >= {setting}.min_escrow_value))
  )"""


def _office_json(key: str, into: str) -> str:
    """Read an ``app_settings`` JSON object as run.py's ``_json`` does: {} when missing,
    not JSON, or not an object."""
    return f"""
  BEGIN
    SELECT a.value::jsonb INTO {into} FROM public.app_settings a WHERE a.key = '{key}';
  EXCEPTION WHEN data_exception THEN
    {into} := NULL;
  END;
  IF {into} IS NULL OR jsonb_typeof({into}) <> 'object' THEN
    {into} := '{{}}'::jsonb;
  END IF;"""


def _filled(obj: str, *keys: str) -> str:
    """Python's ``bool(str(data.get(key, "")))`` for each key: present and not ``""``."""
    return " AND ".join(f"coalesce({obj} -> '{k}' <> '\"\"'::jsonb, false)" for k in keys)


_QUEUE_SQL = f"""
CREATE FUNCTION public.perfdesk_queue_deliveries(note_id integer) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY INVOKER
SET search_path = {SEARCH_PATH}
AS $fn$
DECLARE
  note public.notifications%ROWTYPE;
  broker public.users%ROWTYPE;
  setting public.notification_settings%ROWTYPE;
  email_on boolean := true;
  sms_on boolean := false;
  smtp jsonb;
  sms jsonb;
  queued integer := 0;
BEGIN
  SELECT * INTO note FROM public.notifications n WHERE n.id = note_id;
  IF NOT FOUND THEN
    RETURN 0;
  END IF;
  SELECT * INTO broker FROM public.users u WHERE u.id = note.recipient_id AND u.is_active;
  IF NOT FOUND THEN
    RETURN 0;
  END IF;
  SELECT * INTO setting FROM public.notification_settings s WHERE s.broker_id = broker.id;
  IF FOUND THEN
    IF NOT coalesce({_wanted("setting", "note.type", "note.price")}, false) THEN
      RETURN 0;
    END IF;
    email_on := setting.channel_email;
    sms_on := setting.channel_sms;
  END IF;
{_office_json("delivery.smtp", "smtp")}
{_office_json("delivery.sms", "sms")}
  IF email_on AND coalesce(broker.email, '') <> ''
     AND {_filled("smtp", "host", "from_address")} THEN
    INSERT INTO public.notification_deliveries
      (notification_id, channel, status, attempts, created_at)
    VALUES (note.id, 'email', 'pending', 0, now());
    queued := queued + 1;
  END IF;
  IF sms_on AND btrim(coalesce(broker.phone, ''), {_BLANK}) <> ''
     AND {_filled("sms", "endpoint", "sender")} THEN
    INSERT INTO public.notification_deliveries
      (notification_id, channel, status, attempts, created_at)
    VALUES (note.id, 'sms', 'pending', 0, now());
    queued := queued + 1;
  END IF;
  RETURN queued;
END
$fn$
"""

#: 0005's function with the settings, the repeat and the body checked, and the deliveries
#: queued. The checks before the insert are 0005's, unchanged.
_NOTIFY_SQL = f"""
CREATE OR REPLACE FUNCTION public.notify_broker_for(login text, {_PARAMS}) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = {SEARCH_PATH}
AS $fn$
DECLARE
  caller integer;
  owner integer;
  broker integer;
  amount numeric(16, 2);
  status text;
  entity text;
  setting public.notification_settings%ROWTYPE;
  new_id integer;
BEGIN
  PERFORM public.perfdesk_assert_caller(login);
  caller := public.perfdesk_person_id(login);
  IF caller IS NULL THEN
    RAISE EXCEPTION 'perfdesk: % is no active person of the office', login
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF kind IN ('escrow.created', 'escrow.closed') THEN
    entity := 'escrow';
    SELECT e.agent_id, e.purchase_price, e.escrow_status::text INTO owner, amount, status
      FROM public.escrows e WHERE e.id = record_id;
    IF kind = 'escrow.closed' AND status IS DISTINCT FROM 'Closed' THEN
      RAISE EXCEPTION 'perfdesk: escrow % is not Closed', record_id
        USING ERRCODE = 'invalid_parameter_value';
    END IF;
  ELSIF kind = 'client.created' THEN
    entity := 'client';
    SELECT c.agent_id INTO owner FROM public.clients c WHERE c.id = record_id;
  ELSIF kind = 'listing.created' THEN
    entity := 'listing';
    SELECT l.agent_id, l.list_price INTO owner, amount
      FROM public.listings l WHERE l.id = record_id;
  ELSE
    RAISE EXCEPTION 'perfdesk: no notification of type %', kind
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF owner IS NULL OR NOT EXISTS (
    SELECT 1 FROM public.perfdesk_owners_seen_by(login) AS seen(id) WHERE seen.id = owner
  ) THEN
    RAISE EXCEPTION 'perfdesk: % may not raise a notification about % %', login, entity, record_id
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  SELECT u.broker_id INTO broker FROM public.users u WHERE u.id = owner;
  IF broker IS NULL OR broker = owner THEN
    RETURN NULL;
  END IF;
  SELECT * INTO setting FROM public.notification_settings s WHERE s.broker_id = broker;
  IF FOUND AND NOT coalesce({_wanted("setting", "kind", "amount")}, false) THEN
    RETURN NULL;
  END IF;
  IF kind <> 'escrow.closed' AND EXISTS (
    SELECT 1 FROM public.notifications n
    WHERE n.recipient_id = broker AND n.type = kind AND n.entity_type = entity
      AND n.entity_id = record_id
  ) THEN
    RETURN NULL;
  END IF;
  INSERT INTO public.notifications
    (recipient_id, type, agent_id, entity_type, entity_id, title, body, price, created_at)
  VALUES (broker, kind, owner, entity, record_id, left(title, 200), left(body, {MAX_BODY}),
          amount, now())
  RETURNING id INTO new_id;
  PERFORM public.perfdesk_queue_deliveries(new_id);
  RETURN new_id;
END
$fn$
"""

#: 0005's ``notify_broker_for``, as it was (the downgrade puts it back).
_NOTIFY_0005_SQL = f"""
CREATE OR REPLACE FUNCTION public.notify_broker_for(login text, {_PARAMS}) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = {SEARCH_PATH}
AS $fn$
DECLARE
  caller integer;
  owner integer;
  broker integer;
  amount numeric(16, 2);
  status text;
  entity text;
  new_id integer;
BEGIN
  PERFORM public.perfdesk_assert_caller(login);
  caller := public.perfdesk_person_id(login);
  IF caller IS NULL THEN
    RAISE EXCEPTION 'perfdesk: % is no active person of the office', login
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF kind IN ('escrow.created', 'escrow.closed') THEN
    entity := 'escrow';
    SELECT e.agent_id, e.purchase_price, e.escrow_status::text INTO owner, amount, status
      FROM public.escrows e WHERE e.id = record_id;
    IF kind = 'escrow.closed' AND status IS DISTINCT FROM 'Closed' THEN
      RAISE EXCEPTION 'perfdesk: escrow % is not Closed', record_id
        USING ERRCODE = 'invalid_parameter_value';
    END IF;
  ELSIF kind = 'client.created' THEN
    entity := 'client';
    SELECT c.agent_id INTO owner FROM public.clients c WHERE c.id = record_id;
  ELSIF kind = 'listing.created' THEN
    entity := 'listing';
    SELECT l.agent_id, l.list_price INTO owner, amount
      FROM public.listings l WHERE l.id = record_id;
  ELSE
    RAISE EXCEPTION 'perfdesk: no notification of type %', kind
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF owner IS NULL OR NOT EXISTS (
    SELECT 1 FROM public.perfdesk_owners_seen_by(login) AS seen(id) WHERE seen.id = owner
  ) THEN
    RAISE EXCEPTION 'perfdesk: % may not raise a notification about % %', login, entity, record_id
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  SELECT u.broker_id INTO broker FROM public.users u WHERE u.id = owner;
  IF broker IS NULL OR broker = owner THEN
    RETURN NULL;
  END IF;
  INSERT INTO public.notifications
    (recipient_id, type, agent_id, entity_type, entity_id, title, body, price, created_at)
  VALUES (broker, kind, owner, entity, record_id, left(title, 200), body, amount, now())
  RETURNING id INTO new_id;
  RETURN new_id;
END
$fn$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_QUEUE_SQL)
    # Nobody but the owner (and the owner's definer functions) runs it.
    op.execute(f"REVOKE ALL ON FUNCTION public.{QUEUE} FROM PUBLIC")
    # CREATE OR REPLACE keeps 0005's owner and grants (EXECUTE: perfdesk_user only).
    op.execute(_NOTIFY_SQL)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_NOTIFY_0005_SQL)
    op.execute(f"DROP FUNCTION IF EXISTS public.{QUEUE}")
