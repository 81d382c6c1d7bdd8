"""Notifications raised by a person's login for their broker (SPEC §3) in shared mode.

Under 0004's row-level security a notification is visible and insertable by its recipient
only, so an agent's login creating an escrow cannot insert the notification for their broker.
This adds the two halves of the 0004 pattern (docs/security.md):

- ``notify_broker(kind, record_id, title, body)``, SECURITY INVOKER: reads ``current_user``
  and hands it to
- ``notify_broker_for(login, kind, record_id, title, body)``, SECURITY DEFINER: refuses any
  login but the session's own (``perfdesk_assert_caller``) and a login that is no active
  person; finds the escrow, client or listing itself and refuses unless the caller sees its
  owner (the owner, their broker, their team's manager, an admin: whoever may have written
  it); refuses ``escrow.closed`` for an escrow that is not Closed. The recipient (the owner's
  broker), the agent and the price are taken from the stored rows, never from the caller.
  Returns the new notification's id, or NULL when the owner has no broker other than
  themself.

Whether the broker wants the notification (``notification_settings``, readable by every
login) is decided by the service before it calls. The names avoid the ``perfdesk_`` prefix,
whose set of functions tests/services/pg/test_security_schema.py pins to 0004's.
SQLite has no roles: nothing to do there (the service inserts directly).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

USERS = "perfdesk_user"
SEARCH_PATH = "pg_catalog, public, pg_temp"
_PARAMS = "kind text, record_id integer, title text, body text"
INVOKER = "notify_broker(text, integer, text, text)"
DEFINER = "notify_broker_for(text, text, integer, text, text)"

_DEFINER_SQL = f"""
CREATE FUNCTION public.notify_broker_for(login text, {_PARAMS}) RETURNS integer
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

_INVOKER_SQL = f"""
CREATE FUNCTION public.notify_broker({_PARAMS}) RETURNS integer
LANGUAGE sql VOLATILE SECURITY INVOKER
SET search_path = {SEARCH_PATH}
AS $fn$
SELECT public.notify_broker_for(current_user::text, kind, record_id, title, body)
$fn$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for create, signature in ((_DEFINER_SQL, DEFINER), (_INVOKER_SQL, INVOKER)):
        op.execute(create)
        op.execute(f"REVOKE ALL ON FUNCTION public.{signature} FROM PUBLIC")
        op.execute(f"GRANT EXECUTE ON FUNCTION public.{signature} TO {USERS}")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP FUNCTION IF EXISTS public.{INVOKER}")
    op.execute(f"DROP FUNCTION IF EXISTS public.{DEFINER}")
