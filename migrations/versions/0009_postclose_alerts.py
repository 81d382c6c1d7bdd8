"""Post-close alerts for the managers, writes to buyers and buy boxes kept to their editors,
and live updates of the rent roll (issue "post-close performance", items 5 and 7).

Both backends:
- ``notifications.type`` takes two more values, ``buy_box.warning`` and ``buyer.score_drop``
  (SPEC §9: a buy box entering WARNING or CRITICAL, a buyer's engagement score dropping by 10
  points or more, notify the managers). The CHECK ``ck_notifications_notification_type`` is
  widened and the column grows to VARCHAR(16). SQLite cannot alter a CHECK: the table is
  copied (batch mode). Its copy drops the old table, and with foreign keys on that DROP
  deletes every email/SMS delivery (``notification_deliveries`` cascades), so the deliveries
  are kept aside in a temporary table and put back.

PostgreSQL only:
- ``notify_managers(kind, entity_type, entity_id, title, body)``, SECURITY INVOKER, hands
  ``current_user`` to ``notify_managers_for(login, ...)``, SECURITY DEFINER, the 0005 pattern:
  a person's login cannot insert another person's notification (row-level security). The
  definer refuses any login but the session's own (``perfdesk_assert_caller``), a login that
  is no active person, and one whose role may not enter rent-roll months (only a broker,
  manager or admin writes what raises an alert); refuses a kind it does not know, an entity
  type that does not match it, a buy box that is not in WARNING or CRITICAL and a buyer that
  does not exist; then inserts one notification per active manager (none when there is no
  manager; a manager whose settings row has the in-app channel off gets none) and queues its
  email/SMS with ``perfdesk_queue_deliveries``. Returns how many it inserted.
- ``perfdesk_queue_deliveries`` is 0007's with the alert types wanted whatever a settings row
  says of the broker switches (they have none), as ``NotificationSetting.wants`` says in
  Python. CREATE OR REPLACE keeps its owner and grants (EXECUTE: nobody).
- Grants (``app.db.security.LATER_GRANTS``): INSERT and UPDATE on ``buyers`` and
  ``buy_boxes`` to closers, brokers, managers and admins only, DELETE to admins; agents and
  dialers read them (SPEC §1).
- NOTIFY (0006's ``notify_change``): ``buyers`` and ``buy_boxes`` send their own kinds, which
  the Buyers and Buy boxes pages read again on; ``deal_performances`` and
  ``performance_periods`` send ``rent_roll`` (the Rent roll and month-end pages').

Downgrade deletes the alerts (the old CHECK refuses them; their deliveries go with them) and
undoes the rest, putting back 0007's ``perfdesk_queue_deliveries``.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db import security

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_TYPES = ("escrow.created", "escrow.closed", "client.created", "listing.created")
ALERT_TYPES = ("buy_box.warning", "buyer.score_drop")
NEW_TYPES = (*OLD_TYPES, *ALERT_TYPES)

USERS = "perfdesk_user"
SEARCH_PATH = "pg_catalog, public, pg_temp"
INVOKER = "notify_managers(text, text, integer, text, text)"
DEFINER = "notify_managers_for(text, text, text, integer, text, text)"
#: Who may raise an alert: those who write rent-roll months (security._PERIOD_WRITERS).
ALERTERS = ("broker", "manager", "admin")
MAX_BODY = 2000
KEPT = "perfdesk_kept_deliveries"

STATEMENT_FN = "notify_change"
TRIGGER = "notify_change"
KINDS: dict[str, str] = {
    "buyers": "buyers",
    "buy_boxes": "buy_boxes",
    "deal_performances": "rent_roll",
    "performance_periods": "rent_roll",
}


def _type(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(
        *values,
        name="notification_type",
        native_enum=False,
        create_constraint=True,
        length=max(len(v) for v in values),
    )


# -- perfdesk_queue_deliveries: 0007's text, with the alert types wanted ----------------------

#: What Python's ``str.strip()`` removes of a phone number (0007).
_BLANK = "' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13)"


def _wanted(setting: str, kind: str, price: str, alerts: bool) -> str:
    """0007's rule; with ``alerts`` the alert types (no switch) are wanted too."""
    alert_cases = "".join(f"\n      WHEN '{k}' THEN true" for k in ALERT_TYPES) if alerts else ""
    return f"""(
    CASE {kind}
      WHEN 'escrow.created' THEN {setting}.notify_escrow_created
      WHEN 'escrow.closed' THEN {setting}.notify_escrow_closed
      WHEN 'client.created' THEN {setting}.notify_client_created
      WHEN 'listing.created' THEN {setting}.notify_listing_created{alert_cases}
      ELSE false
    END
    AND {setting}.channel_in_app
    AND ({kind} NOT IN ('escrow.created', 'escrow.closed')
         OR {setting}.min_escrow_value IS NULL
         OR ({price} IS NOT NULL AND {price} >= {setting}.min_escrow_value))
  )"""


def _office_json(key: str, into: str) -> str:
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
    return " AND ".join(f"coalesce({obj} -> '{k}' <> '\"\"'::jsonb, false)" for k in keys)


def _queue_sql(alerts: bool) -> str:
    return f"""
CREATE OR REPLACE FUNCTION public.perfdesk_queue_deliveries(note_id integer) RETURNS integer
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
    IF NOT coalesce({_wanted("setting", "note.type", "note.price", alerts)}, false) THEN
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


# -- notify_managers -------------------------------------------------------------------------

_ALERTERS_SQL = ", ".join(f"'{r}'" for r in ALERTERS)

_DEFINER_SQL = f"""
CREATE FUNCTION public.notify_managers_for(
  login text, kind text, p_entity_type text, p_entity_id integer, p_title text, p_body text
) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER
SET search_path = {SEARCH_PATH}
AS $fn$
DECLARE
  caller_role text;
  entity text;
  recipient integer;
  setting public.notification_settings%ROWTYPE;
  new_id integer;
  raised integer := 0;
BEGIN
  PERFORM public.perfdesk_assert_caller(login);
  caller_role := public.perfdesk_person_role(login);
  IF caller_role IS NULL THEN
    RAISE EXCEPTION 'perfdesk: % is no active person of the office', login
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF caller_role NOT IN ({_ALERTERS_SQL}) THEN
    RAISE EXCEPTION 'perfdesk: % (%) may not alert the managers', login, caller_role
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF kind = 'buy_box.warning' THEN
    entity := 'buy_box';
    IF NOT EXISTS (
      SELECT 1 FROM public.buy_boxes b WHERE b.id = p_entity_id AND b.warning_level IS NOT NULL
    ) THEN
      RAISE EXCEPTION 'perfdesk: buy box % is not in WARNING or CRITICAL', p_entity_id
        USING ERRCODE = 'invalid_parameter_value';
    END IF;
  ELSIF kind = 'buyer.score_drop' THEN
    entity := 'buyer';
    IF NOT EXISTS (SELECT 1 FROM public.buyers b WHERE b.id = p_entity_id) THEN
      RAISE EXCEPTION 'perfdesk: there is no buyer %', p_entity_id
        USING ERRCODE = 'invalid_parameter_value';
    END IF;
  ELSE
    RAISE EXCEPTION 'perfdesk: no manager alert of type %', kind
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_entity_type IS DISTINCT FROM entity THEN
    RAISE EXCEPTION 'perfdesk: a % alert is about a %, not %', kind, entity, p_entity_type
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  FOR recipient IN
    SELECT u.id FROM public.users u WHERE u.role = 'manager' AND u.is_active ORDER BY u.id
  LOOP
    SELECT * INTO setting FROM public.notification_settings s WHERE s.broker_id = recipient;
    IF FOUND AND NOT setting.channel_in_app THEN
      CONTINUE;
    END IF;
    INSERT INTO public.notifications
      (recipient_id, type, agent_id, entity_type, entity_id, title, body, price, created_at)
    VALUES (recipient, kind, NULL, entity, p_entity_id, left(p_title, 200),
            left(p_body, {MAX_BODY}), NULL, now())
    RETURNING id INTO new_id;
    PERFORM public.perfdesk_queue_deliveries(new_id);
    raised := raised + 1;
  END LOOP;
  RETURN raised;
END
$fn$
"""

_INVOKER_SQL = f"""
CREATE FUNCTION public.notify_managers(
  kind text, entity_type text, entity_id integer, title text, body text
) RETURNS integer
LANGUAGE sql VOLATILE SECURITY INVOKER
SET search_path = {SEARCH_PATH}
AS $fn$
SELECT public.notify_managers_for(current_user::text, kind, entity_type, entity_id, title, body)
$fn$
"""


# -- the CHECK on notifications.type ---------------------------------------------------------


def _retype(old: tuple[str, ...], new: tuple[str, ...]) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        # Copying the table drops the old one, whose implicit DELETE cascades to the
        # deliveries (foreign keys are on, and cannot be switched off inside the transaction).
        op.execute(f"CREATE TEMP TABLE {KEPT} AS SELECT * FROM notification_deliveries")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.alter_column(
            "type", existing_type=_type(old), type_=_type(new), existing_nullable=False
        )
    if sqlite:
        op.execute(
            f"INSERT INTO notification_deliveries SELECT k.* FROM temp.{KEPT} k "
            "WHERE k.id NOT IN (SELECT d.id FROM notification_deliveries d)"
        )
        op.execute(f"DROP TABLE temp.{KEPT}")


def upgrade() -> None:
    _retype(OLD_TYPES, NEW_TYPES)
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_queue_sql(alerts=True))
    for create, signature in ((_DEFINER_SQL, DEFINER), (_INVOKER_SQL, INVOKER)):
        op.execute(create)
        op.execute(f"REVOKE ALL ON FUNCTION public.{signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION public.{signature} TO {USERS}")
    for statement in security.grant_sql(security.LATER_GRANTS):
        op.execute(statement)
    for table, kind in KINDS.items():
        op.execute(
            f"CREATE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE ON public.{table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION public.{STATEMENT_FN}('{kind}')"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in KINDS:
            op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON public.{table}")
        for statement in security.ungrant_sql(security.LATER_GRANTS):
            op.execute(statement)
        op.execute(f"DROP FUNCTION IF EXISTS public.{INVOKER}")
        op.execute(f"DROP FUNCTION IF EXISTS public.{DEFINER}")
        op.execute(_queue_sql(alerts=False))
    # The old CHECK refuses the alerts: they go (and their deliveries with them).
    types = ", ".join(f"'{t}'" for t in ALERT_TYPES)
    op.execute(f"DELETE FROM notifications WHERE type IN ({types})")
    _retype(NEW_TYPES, OLD_TYPES)
