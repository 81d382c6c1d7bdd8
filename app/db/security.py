"""Shared mode's privacy held by PostgreSQL itself (SPEC §1): row-level security, grants and
the SECURITY DEFINER functions that give brokers counts without rows.

This module is the SQL of migration 0004 (which imports it) and the list the tests walk. It is
part of a migration: do not change what it creates in place. A change is a new migration that
drops and recreates what changes (copy the text you need into it).

Who is asking
-------------
Every policy is keyed on ``current_user`` joined to ``users.db_role`` (each person logs in as
their own role). Never on a session setting: ``SET app.user_id = ...`` is open to any client.

Inside a SECURITY DEFINER function ``current_user`` is the function's *owner*, not the
caller. So the caller's name is read by small SECURITY INVOKER wrappers (``perfdesk_me()``,
``perfdesk_visible_owners()``, ``perfdesk_lead_counts(...)``) and handed to the SECURITY
DEFINER function doing the work (``perfdesk_person_id(login)``, ...). Those that only
return what the ``users``/``teams`` directory already shows (ids, roles, who sees whom) take
the name as given; the count functions, which read rows the caller could not, check that the
name is the session's own login or a role the login has been granted (what ``SET ROLE``
allows) and refuse anything else (``perfdesk_assert_caller``).

Every function pins ``search_path`` (``pg_catalog, public, pg_temp``) and names tables with
their schema; EXECUTE is revoked from PUBLIC and granted to ``perfdesk_user`` only.

The table owner (who runs the migrations, loads demos, and the tests' ``postgres``) is not
subject to these policies: row-level security is ENABLEd, not FORCEd.
"""

from __future__ import annotations

from dataclasses import dataclass

REVISION = "0004"
#: Every PerfDesk login is a member of this group (app.services.users.BASE_GROUP).
USERS = "perfdesk_user"
#: search_path of every function: pg_temp last, so a temporary object can never stand in.
SEARCH_PATH = "pg_catalog, public, pg_temp"


def group(role: str) -> str:
    return f"perfdesk_{role}"


# ---------------------------------------------------------------------------- expressions

ME = "(SELECT public.perfdesk_me())"
MY_ROLE = "(SELECT public.perfdesk_my_role())"
IS_ADMIN = f"{MY_ROLE} = 'admin'"


def role_in(*roles: str) -> str:
    return f"{MY_ROLE} IN ({', '.join(repr(r) for r in roles)})"


def seen(owner_column: str) -> str:
    """The owner is the caller, an agent of the caller (broker), a member of a team the
    caller manages, or anyone for an admin (SPEC §1: escrows, clients, listings, deals)."""
    return f"{owner_column} IN (SELECT public.perfdesk_visible_owners())"


def deal_seen(deal_column: str) -> str:
    """The deal ``deal_column`` names is seen. A correlated EXISTS, probing the deal by its key:
    the ``IN (SELECT d.id …)`` form 0004 first used makes PostgreSQL hash every deal the person
    sees for each statement (~100 ms on 50,000 deals), which a single move paid three times.
    An admin sees every deal: the role, read once per statement, answers before any probe.
    Migration 0008 re-creates the policies that use it."""
    return (
        f"({IS_ADMIN} OR EXISTS (SELECT 1 FROM public.deals d WHERE d.id = {deal_column} "
        f"AND {seen('d.agent_id')}))"
    )


# The commission's agent is tested first (0012): PostgreSQL evaluates that IN list once per
# statement, while the deal's test probes per row; with the deal first a broker's own login
# paid ~1 ms per commission read (15 s for a month's ROI on the large demo).
COMMISSION_READ = f"({seen('c.agent_id')} OR {deal_seen('c.deal_id')})"
COMMISSION_WRITE = deal_seen("c.deal_id")


def _commission_seen(rule: str) -> str:
    """An adjustment follows its commission: probed by key (0008), admins first."""
    return (
        f"({IS_ADMIN} OR EXISTS (SELECT 1 FROM public.commission_records c "
        f"WHERE c.id = commission_id AND {rule}))"
    )


def kpi_scope(user_column: str, team_column: str, write: bool) -> str:
    w = "true" if write else "false"
    return (
        f"({user_column} IS NULL OR {user_column} IN "
        f"(SELECT public.perfdesk_kpi_people({w}))) "
        f"AND ({team_column} IS NULL OR {team_column} IN "
        f"(SELECT public.perfdesk_kpi_teams({w})))"
    )


def kpi_assignment_seen(column: str, write: bool) -> str:
    scope = kpi_scope("a.user_id", "a.team_id", write)
    return f"{column} IN (SELECT a.id FROM public.kpi_assignments a WHERE {scope})"


# ---------------------------------------------------------------------------- policies


@dataclass(frozen=True)
class Policy:
    table: str
    name: str
    command: str  # ALL, SELECT, INSERT, UPDATE or DELETE
    using: str | None
    check: str | None
    #: Who the rule is for, in words (docs/security.md and the report).
    says: str

    def create_sql(self) -> str:
        sql = f"CREATE POLICY {self.name} ON public.{self.table} FOR {self.command} TO {USERS}"
        if self.using is not None:
            sql += f" USING ({self.using})"
        if self.check is not None:
            sql += f" WITH CHECK ({self.check})"
        return sql

    def drop_sql(self) -> str:
        return f"DROP POLICY IF EXISTS {self.name} ON public.{self.table}"


def _all(table: str, name: str, condition: str, says: str) -> Policy:
    """One rule for reading and writing."""
    return Policy(table, f"{table}_{name}", "ALL", condition, condition, says)


def _split(table: str, read: str, write: str, reads: str, writes: str) -> tuple[Policy, ...]:
    """Who reads (``read``) and who inserts, updates and deletes (``write``) differ."""
    return (
        Policy(table, f"{table}_read", "SELECT", read, None, reads),
        Policy(table, f"{table}_insert", "INSERT", None, write, writes),
        Policy(table, f"{table}_update", "UPDATE", write, write, writes),
        Policy(table, f"{table}_delete", "DELETE", write, None, writes),
    )


_EVERYONE = "every login"
_ADMIN = "admin only"
_SEEN = "owner, owner's broker, manager of the owner's team, admin"
_DEAL_PEOPLE = "whoever sees the deal (owner, broker, team manager, admin)"
_PERIOD_WRITERS = ("broker", "manager", "admin")
_PERFORMANCE_CREATORS = ("closer", "broker", "manager", "admin")
_KPI_PEOPLE_READ = "user_id IN (SELECT public.perfdesk_kpi_people(false))"
_KPI_PEOPLE_WRITE = "user_id IN (SELECT public.perfdesk_kpi_people(true))"
_KPI_READS = "own (and own team's); broker: their agents'; manager: managed teams'; admin: all"
_KPI_WRITES = "manager: managed teams (assign, manual entry); admin: all"

POLICIES: tuple[Policy, ...] = (
    # The directory: every login reads people and teams; only admins change them.
    *_split("users", "true", IS_ADMIN, _EVERYONE, _ADMIN),
    *_split("teams", "true", IS_ADMIN, _EVERYONE, _ADMIN),
    *_split("kpi_definitions", "true", IS_ADMIN, _EVERYONE, _ADMIN),
    # Leads and appointments: their owner only, private or not, whatever the role. Others
    # get counts through perfdesk_lead_counts / perfdesk_appointment_counts.
    _all("leads", "owner", f"owner_id = {ME}", "owner only"),
    _all("appointments", "owner", f"agent_id = {ME}", "owner only"),
    # Escrows, clients, listings, deals: the owner, their broker, their team's manager, admins.
    *(_all(t, "seen", seen("agent_id"), _SEEN) for t in ("clients", "listings", "escrows")),
    _all("deals", "seen", seen("agent_id"), _SEEN),
    # Per-person figures derived from those records (and from lead counts).
    _all("agent_monthly_kpis", "seen", seen("user_id"), _SEEN),
    _all("agent_performance_snapshots", "seen", seen("agent_id"), _SEEN),
    # What hangs off a deal follows the deal.
    *(
        _all(t, "deal_seen", deal_seen("deal_id"), _DEAL_PEOPLE)
        for t in ("deal_stage_events", "deal_contacts", "deal_documents")
    ),
    # Commissions: read by whoever sees the deal or the commission's agent; written only by
    # whoever sees the deal (nobody books themself a commission on a deal they cannot see).
    *_split(
        "commission_records",
        f"{IS_ADMIN} OR {seen('agent_id')} OR {deal_seen('deal_id')}",
        deal_seen("deal_id"),
        _DEAL_PEOPLE + "; also the commission's agent",
        _DEAL_PEOPLE,
    ),
    *_split(
        "commission_adjustments",
        _commission_seen(COMMISSION_READ),
        _commission_seen(COMMISSION_WRITE),
        "as its commission",
        _DEAL_PEOPLE,
    ),
    # Notifications: their recipient only.
    _all("notifications", "recipient", f"recipient_id = {ME}", "recipient only"),
    _all(
        "notification_deliveries",
        "recipient",
        f"notification_id IN (SELECT n.id FROM public.notifications n WHERE n.recipient_id = {ME})",
        "the notification's recipient only",
    ),
    *_split(
        "notification_settings",
        "true",
        f"broker_id = {ME} OR {IS_ADMIN}",
        _EVERYONE,
        "the broker they belong to, admin",
    ),
    # KPI assignments and measurements (SPEC §1): own; broker: their agents' (read);
    # manager: managed teams' (assign, manual entry); admin: all.
    *_split(
        "kpi_assignments",
        kpi_scope("user_id", "team_id", write=False),
        kpi_scope("user_id", "team_id", write=True),
        _KPI_READS,
        _KPI_WRITES,
    ),
    *_split(
        "kpi_measurements",
        kpi_assignment_seen("assignment_id", write=False),
        kpi_assignment_seen("assignment_id", write=True),
        _KPI_READS,
        _KPI_WRITES,
    ),
    *_split("kpi_score_snapshots", _KPI_PEOPLE_READ, _KPI_PEOPLE_WRITE, _KPI_READS, _KPI_WRITES),
    # Deal performance / rent roll (SPEC §1): everyone reads (dialers included); a closer
    # creates the record at close; brokers, managers and admins change it (the pro forma
    # stays locked by trigger, 0002) and enter periods. Nobody deletes a record (0002).
    Policy("deal_performances", "deal_performances_read", "SELECT", "true", None, _EVERYONE),
    Policy(
        "deal_performances",
        "deal_performances_insert",
        "INSERT",
        None,
        role_in(*_PERFORMANCE_CREATORS),
        "closer (at close), broker, manager, admin",
    ),
    Policy(
        "deal_performances",
        "deal_performances_update",
        "UPDATE",
        role_in(*_PERIOD_WRITERS),
        role_in(*_PERIOD_WRITERS),
        "broker, manager, admin (grades; the pro forma stays locked)",
    ),
    *_split(
        "performance_periods",
        "true",
        role_in(*_PERIOD_WRITERS),
        _EVERYONE,
        "broker, manager, admin",
    ),
)

#: Tables under row-level security.
RLS_TABLES: tuple[str, ...] = tuple(dict.fromkeys(p.table for p in POLICIES))


# ---------------------------------------------------------------------------- grants

#: (table, privileges, groups): taken from every login (perfdesk_user, granted in 0002) and
#: given back to these groups only. The policies say the same; a grant refuses earlier and
#: with a plainer message ("permission denied for table ...").
Grants = tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]
GRANTS: Grants = (
    ("users", ("INSERT", "UPDATE", "DELETE"), ("admin",)),
    ("teams", ("INSERT", "UPDATE", "DELETE"), ("admin",)),
    ("kpi_definitions", ("INSERT", "UPDATE", "DELETE"), ("admin",)),
    ("deal_performances", ("INSERT",), _PERFORMANCE_CREATORS),
    ("deal_performances", ("UPDATE",), _PERIOD_WRITERS),
    ("performance_periods", ("INSERT", "UPDATE", "DELETE"), _PERIOD_WRITERS),
)


def grant_sql(grants: Grants) -> list[str]:
    """Take ``grants``' privileges from every login, give them to the groups named."""
    sql: list[str] = []
    for table, privileges, groups in grants:
        privs = ", ".join(privileges)
        sql.append(f"REVOKE {privs} ON public.{table} FROM {USERS}")
        sql.append(f"GRANT {privs} ON public.{table} TO {', '.join(group(g) for g in groups)}")
    return sql


def ungrant_sql(grants: Grants) -> list[str]:
    """What ``grant_sql(grants)`` did, undone (every login gets the privileges back)."""
    sql: list[str] = []
    for table, privileges, groups in grants:
        privs = ", ".join(privileges)
        sql.append(f"REVOKE {privs} ON public.{table} FROM {', '.join(group(g) for g in groups)}")
        sql.append(f"GRANT {privs} ON public.{table} TO {USERS}")
    return sql


# ---------------------------------------------------------------------------- functions


@dataclass(frozen=True)
class Function:
    signature: str  # name(argument types), as DROP FUNCTION and GRANT want it
    returns: str
    language: str
    body: str
    definer: bool
    #: Granted to every login; False: only the owner (and definer functions) may call it.
    granted: bool = True
    #: Parameters as CREATE FUNCTION wants them (names and types).
    params: str = ""
    rows: int | None = None

    @property
    def name(self) -> str:
        return self.signature.split("(", 1)[0]

    def create_sql(self) -> str:
        security = "SECURITY DEFINER" if self.definer else "SECURITY INVOKER"
        rows = f" ROWS {self.rows}" if self.rows else ""
        return (
            f"CREATE FUNCTION public.{self.name}({self.params}) RETURNS {self.returns}\n"
            f"LANGUAGE {self.language} STABLE {security}{rows}\n"
            f"SET search_path = {SEARCH_PATH}\n"
            f"AS $fn$\n{self.body.strip()}\n$fn$"
        )

    def privilege_sql(self) -> list[str]:
        sql = [f"REVOKE ALL ON FUNCTION public.{self.signature} FROM PUBLIC"]
        if self.granted:
            sql.append(f"GRANT EXECUTE ON FUNCTION public.{self.signature} TO {USERS}")
        return sql

    def drop_sql(self) -> str:
        return f"DROP FUNCTION IF EXISTS public.{self.signature}"


_CALLER = "current_user::text"
#: The active person behind a login, joined as ``me``.
_ME_JOIN = "JOIN public.users me ON me.db_role = login AND me.is_active"
_MANAGED_TEAMS = "SELECT t.id FROM public.teams t WHERE t.manager_id = me.id"
_LEAD_COLUMNS = (
    "owner_id integer, total bigint, new bigint, converted bigint, last_created timestamptz"
)
_APPOINTMENT_COLUMNS = (
    "owner_id integer, scheduled bigint, completed bigint, no_shows bigint, "
    "last_created timestamptz"
)
_PERIOD = "period_start timestamptz, period_end timestamptz"

_IN_PERIOD = "a.start_time >= period_start AND a.start_time < period_end"
#: Up to this many owners, their rows are read through the owner index; beyond, every
#: owner is aggregated (a parallel scan) and those counted are kept, which is cheaper than
#: testing millions of rows against a long list (the agent report does the same for brokers).
FEW_OWNERS = 20


def _counts_body(table: str, owner: str, counts: tuple[str, ...], where: str) -> str:
    """A count function's body: check the login named, find whom it may count, count."""
    select = ", ".join((f"{owner} AS owner_key", *(f"{c} AS n{i}" for i, c in enumerate(counts))))
    return f"""
        #variable_conflict use_column
        DECLARE
          owners integer[];
        BEGIN
          PERFORM public.perfdesk_assert_caller(login);
          owners := ARRAY(SELECT public.perfdesk_counted_owners_of(login));
          IF cardinality(owners) = 0 THEN
            RETURN;
          ELSIF cardinality(owners) <= {FEW_OWNERS} THEN
            RETURN QUERY
              SELECT {select} FROM public.{table}
              WHERE {where} AND {owner} = ANY (owners)
              GROUP BY {owner};
          ELSE
            RETURN QUERY
              WITH counted AS MATERIALIZED (
                SELECT {select} FROM public.{table} WHERE {where} GROUP BY {owner}
              )
              SELECT counted.* FROM counted WHERE counted.owner_key = ANY (owners);
          END IF;
        END
        """


FUNCTIONS: tuple[Function, ...] = (
    # -- who a login is (definer: reads the directory whatever the caller's policies) --------
    Function(
        "perfdesk_person_id(text)",
        "integer",
        "sql",
        "SELECT u.id FROM public.users u WHERE u.db_role = login AND u.is_active",
        definer=True,
        params="login text",
    ),
    Function(
        "perfdesk_person_role(text)",
        "text",
        "sql",
        "SELECT u.role::text FROM public.users u WHERE u.db_role = login AND u.is_active",
        definer=True,
        params="login text",
    ),
    # Whose escrows, clients, listings and deals a login sees (records.py, SPEC §1).
    Function(
        "perfdesk_owners_seen_by(text)",
        "SETOF integer",
        "sql",
        f"""
        SELECT u.id FROM public.users u {_ME_JOIN}
        WHERE me.role = 'admin' OR u.id = me.id OR u.broker_id = me.id
           OR u.team_id IN ({_MANAGED_TEAMS})
        """,
        definer=True,
        params="login text",
        rows=50,
    ),
    # Whose lead and appointment counts a login gets (the agent report's scope, SPEC §1-2):
    # own; broker: their agents; manager: their teams; admin: everyone.
    Function(
        "perfdesk_counted_owners_of(text)",
        "SETOF integer",
        "sql",
        f"""
        SELECT u.id FROM public.users u {_ME_JOIN}
        WHERE me.role = 'admin' OR u.id = me.id
           OR (me.role = 'broker' AND u.broker_id = me.id)
           OR (me.role = 'manager' AND (u.team_id IN ({_MANAGED_TEAMS}) OR u.team_id = me.team_id))
        """,
        definer=True,
        params="login text",
        rows=50,
    ),
    # People and teams whose KPI assignments a login reads (write = false) or writes.
    Function(
        "perfdesk_kpi_people_of(text, boolean)",
        "SETOF integer",
        "sql",
        f"""
        SELECT u.id FROM public.users u {_ME_JOIN}
        WHERE me.role = 'admin' OR u.team_id IN ({_MANAGED_TEAMS})
           OR (NOT for_write AND (u.id = me.id OR u.broker_id = me.id))
        """,
        definer=True,
        params="login text, for_write boolean",
        rows=50,
    ),
    Function(
        "perfdesk_kpi_teams_of(text, boolean)",
        "SETOF integer",
        "sql",
        f"""
        SELECT t.id FROM public.teams t {_ME_JOIN}
        WHERE me.role = 'admin' OR t.manager_id = me.id
           OR (NOT for_write AND (t.id = me.team_id OR t.broker_id = me.id))
        """,
        definer=True,
        params="login text, for_write boolean",
        rows=10,
    ),
    # -- the caller (invoker: current_user is the caller here, the owner inside a definer) ---
    Function(
        "perfdesk_me()",
        "integer",
        "sql",
        f"SELECT public.perfdesk_person_id({_CALLER})",
        definer=False,
    ),
    Function(
        "perfdesk_my_role()",
        "text",
        "sql",
        f"SELECT public.perfdesk_person_role({_CALLER})",
        definer=False,
    ),
    Function(
        "perfdesk_visible_owners()",
        "SETOF integer",
        "sql",
        f"SELECT public.perfdesk_owners_seen_by({_CALLER})",
        definer=False,
        rows=50,
    ),
    Function(
        "perfdesk_sees_owner(integer)",
        "boolean",
        "sql",
        f"SELECT owner_id IN (SELECT public.perfdesk_owners_seen_by({_CALLER}))",
        definer=False,
        params="owner_id integer",
    ),
    Function(
        "perfdesk_kpi_people(boolean)",
        "SETOF integer",
        "sql",
        f"SELECT public.perfdesk_kpi_people_of({_CALLER}, for_write)",
        definer=False,
        params="for_write boolean",
        rows=50,
    ),
    Function(
        "perfdesk_kpi_teams(boolean)",
        "SETOF integer",
        "sql",
        f"SELECT public.perfdesk_kpi_teams_of({_CALLER}, for_write)",
        definer=False,
        params="for_write boolean",
        rows=10,
    ),
    # -- counts without rows ------------------------------------------------------------------
    # The login named must be the session's own, or a role it may SET ROLE to: a caller
    # cannot ask for somebody else's view by passing their name.
    Function(
        "perfdesk_assert_caller(text)",
        "void",
        "plpgsql",
        """
        BEGIN
          IF login IS NULL THEN
            RAISE EXCEPTION 'perfdesk: no login named' USING ERRCODE = 'insufficient_privilege';
          END IF;
          IF login = session_user::text THEN
            RETURN;
          END IF;
          IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = login) THEN
            IF pg_catalog.pg_has_role(session_user, login, 'MEMBER') THEN
              RETURN;
            END IF;
          END IF;
          RAISE EXCEPTION 'perfdesk: % may not ask for the counts of %', session_user, login
            USING ERRCODE = 'insufficient_privilege';
        END
        """,
        definer=False,
        granted=False,
        params="login text",
    ),
    # SPEC §2 over non-private leads created before period_end, per owner the caller may
    # count: all, created within the period, converted, the newest creation time.
    Function(
        "perfdesk_lead_counts_for(text, timestamptz, timestamptz)",
        f"TABLE({_LEAD_COLUMNS})",
        "plpgsql",
        _counts_body(
            "leads l",
            "l.owner_id",
            (
                "count(*)",
                "count(*) FILTER (WHERE l.created_at >= period_start)",
                "count(*) FILTER (WHERE l.status = 'converted')",
                "max(l.created_at)",
            ),
            "NOT l.is_private AND l.created_at < period_end",
        ),
        definer=True,
        params=f"login text, {_PERIOD}",
    ),
    # SPEC §2 over non-private appointments created before period_end: not cancelled,
    # completed and no-shows among those starting within the period; the newest creation.
    Function(
        "perfdesk_appointment_counts_for(text, timestamptz, timestamptz)",
        f"TABLE({_APPOINTMENT_COLUMNS})",
        "plpgsql",
        _counts_body(
            "appointments a",
            "a.agent_id",
            (
                f"count(*) FILTER (WHERE {_IN_PERIOD} AND a.status <> 'cancelled')",
                f"count(*) FILTER (WHERE {_IN_PERIOD} AND a.status = 'completed')",
                f"count(*) FILTER (WHERE {_IN_PERIOD} AND a.status = 'no_show')",
                "max(a.created_at)",
            ),
            "NOT a.is_private AND a.created_at < period_end",
        ),
        definer=True,
        params=f"login text, {_PERIOD}",
    ),
    Function(
        "perfdesk_lead_counts(timestamptz, timestamptz)",
        f"TABLE({_LEAD_COLUMNS})",
        "sql",
        f"SELECT * FROM public.perfdesk_lead_counts_for({_CALLER}, period_start, period_end)",
        definer=False,
        params=_PERIOD,
    ),
    Function(
        "perfdesk_appointment_counts(timestamptz, timestamptz)",
        f"TABLE({_APPOINTMENT_COLUMNS})",
        "sql",
        f"SELECT * FROM public.perfdesk_appointment_counts_for({_CALLER}, period_start, "
        "period_end)",
        definer=False,
        params=_PERIOD,
    ),
)


#: ``perfdesk_`` functions that later migrations create by hand (not from ``FUNCTIONS``, which
#: is 0004's set): name → (SECURITY DEFINER, EXECUTE granted to the users' group).
#: tests/services/pg/test_security_schema.py pins the database to ``FUNCTIONS`` plus these.
LATER_FUNCTIONS: dict[str, tuple[bool, bool]] = {
    # 0007: queues a notification's email/SMS; only its owner (notify_broker_for) runs it.
    # 0009 replaces it (same signature and grants) so the managers' alerts are wanted.
    "perfdesk_queue_deliveries": (False, False),
    # 0008: does the caller see this deal (the audit entries' policy)?
    "perfdesk_sees_deal": (False, True),
    # 0012: ROI's lead counts by source (``ANALYTICS_FUNCTIONS``).
    "perfdesk_lead_source_counts_for": (True, True),
    "perfdesk_lead_source_counts": (False, True),
}

#: 0008's function (created by that migration, not by 0004's ``upgrade_statements``).
SEES_DEAL = Function(
    "perfdesk_sees_deal(integer)",
    "boolean",
    "plpgsql",
    f"""
BEGIN
  RETURN EXISTS (SELECT 1 FROM public.deals d WHERE d.id = p_deal AND {seen("d.agent_id")});
END
""",
    definer=False,
    params="p_deal integer",
)


#: Audit entries (0008): admins see every chain; a deal's chain whoever sees the deal; any other
#: chain its actor. The deal is checked by ``perfdesk_sees_deal`` (never inlined), one index
#: probe per entry read: as a correlated EXISTS the planner hashes every deal the person sees
#: instead (~40 ms on 50,000 deals), which the audit writer's read of a chain's last entry paid
#: on every move.
AUDIT_SEEN = (
    f"{IS_ADMIN} OR (chain_key LIKE 'deal:%' AND "
    "public.perfdesk_sees_deal((split_part(chain_key, ':', 2))::integer)) "
    f"OR (chain_key NOT LIKE 'deal:%' AND actor_id = {ME})"
)
#: Policies later migrations create by hand (0004 installs ``POLICIES``); the tests pin the
#: database to both.
LATER_POLICIES: tuple[Policy, ...] = (
    Policy(
        "audit_entries", "audit_entries_read", "SELECT", AUDIT_SEEN, None,
        "a deal's chain: whoever sees the deal; other chains: their actor, admin",
    ),
    Policy(
        "audit_entries", "audit_entries_insert", "INSERT", None, AUDIT_SEEN,
        "a deal's chain: whoever sees the deal; other chains: their actor, admin",
    ),
)  # fmt: skip
LATER_RLS_TABLES: tuple[str, ...] = ("audit_entries",)

#: Who may add and change buyers and buy boxes (SPEC §1: closers, brokers, managers, admins;
#: agents and dialers read them), as the catalog service says (``EDITOR_ROLES``).
_CATALOG_EDITORS = ("closer", "broker", "manager", "admin")
#: Grants later migrations narrow (0004 applies ``GRANTS``, which stays as it was): 0009 keeps
#: writing buyers and buy boxes to their editors and deleting them to admins. The tables have
#: no row-level security (every login reads every row); the grants are the whole rule.
LATER_GRANTS: Grants = (
    ("buyers", ("INSERT", "UPDATE"), _CATALOG_EDITORS),
    ("buyers", ("DELETE",), ("admin",)),
    ("buy_boxes", ("INSERT", "UPDATE"), _CATALOG_EDITORS),
    ("buy_boxes", ("DELETE",), ("admin",)),
)


#: Goals, entered activities and badges (migration 0011): like KPI assignments, a person's
#: own, their broker's (read), their team manager's (read and write), an admin's. Badge
#: rules: every login reads them, admins write them.
_GOAL_SCOPE_READ = kpi_scope("user_id", "team_id", write=False)
_GOAL_SCOPE_WRITE = kpi_scope("user_id", "team_id", write=True)
GOAL_POLICIES: tuple[Policy, ...] = (
    *_split("goals", _GOAL_SCOPE_READ, _GOAL_SCOPE_WRITE, _KPI_READS, _KPI_WRITES),
    # A person enters their own calls, emails and meetings too.
    *_split(
        "activity_entries",
        _KPI_PEOPLE_READ,
        f"({_KPI_PEOPLE_WRITE}) OR user_id = {ME}",
        _KPI_READS,
        "own; " + _KPI_WRITES,
    ),
    *_split("user_achievements", _KPI_PEOPLE_READ, _KPI_PEOPLE_WRITE, _KPI_READS, _KPI_WRITES),
    *_split("achievement_definitions", "true", IS_ADMIN, _EVERYONE, _ADMIN),
)
GOAL_RLS_TABLES: tuple[str, ...] = tuple(dict.fromkeys(p.table for p in GOAL_POLICIES))
GOAL_GRANTS: Grants = (("achievement_definitions", ("INSERT", "UPDATE", "DELETE"), ("admin",)),)


#: Lead-source spend and benchmarks (migration 0012). Spend bought for one agent is read by
#: whoever sees that agent's records; office-wide spend (no agent) by every login. Brokers and
#: admins enter office-wide spend; brokers, managers and admins enter an agent's they see.
#: Benchmarks have no row-level security (reference figures every login reads); the grant is
#: the whole rule: admins, brokers and managers import them.
_SPEND_WRITERS = ("broker", "manager", "admin")
_SPEND_READ = f"agent_id IS NULL OR {seen('agent_id')}"
_SPEND_WRITE = (
    f"(agent_id IS NULL AND {role_in('broker', 'admin')}) "
    f"OR (agent_id IS NOT NULL AND {role_in(*_SPEND_WRITERS)} AND {seen('agent_id')})"
)
ANALYTICS_POLICIES: tuple[Policy, ...] = _split(
    "lead_source_costs",
    _SPEND_READ,
    _SPEND_WRITE,
    "office-wide: every login; an agent's: whoever sees the agent's records",
    "office-wide: broker, admin; an agent's: their broker, their team's manager, admin",
)
ANALYTICS_RLS_TABLES: tuple[str, ...] = ("lead_source_costs",)
#: 0004's policies 0012 creates again with the commission's agent tested before its deal.
REORDERED_POLICIES: tuple[str, ...] = ("commission_records_read", "commission_adjustments_read")
ANALYTICS_GRANTS: Grants = (
    ("lead_source_costs", ("INSERT", "UPDATE", "DELETE"), _SPEND_WRITERS),
    ("benchmarks", ("INSERT", "UPDATE", "DELETE"), ("broker", "manager", "admin")),
)
_SOURCE_COLUMNS = "owner_id integer, source text, total bigint, converted bigint"
#: ROI by lead source (issue 7): leads created within the period per owner and source, for the
#: owners the login may count (as the agent report); other people's private leads never count,
#: the caller's own do. ``source`` is the lead's, trimmed; empty or missing is NULL.
LEAD_SOURCE_COUNTS_FOR = Function(
    "perfdesk_lead_source_counts_for(text, timestamptz, timestamptz)",
    f"TABLE({_SOURCE_COLUMNS})",
    "plpgsql",
    """
    #variable_conflict use_column
    DECLARE
      owners integer[];
      me integer;
    BEGIN
      PERFORM public.perfdesk_assert_caller(login);
      owners := ARRAY(SELECT public.perfdesk_counted_owners_of(login));
      me := public.perfdesk_person_id(login);
      RETURN QUERY
        SELECT l.owner_id, NULLIF(btrim(l.source), '')::text, count(*),
               count(*) FILTER (WHERE l.status = 'converted')
        FROM public.leads l
        WHERE l.created_at >= period_start AND l.created_at < period_end
          AND l.owner_id = ANY (owners) AND (NOT l.is_private OR l.owner_id = me)
        GROUP BY l.owner_id, NULLIF(btrim(l.source), '');
    END
    """,
    definer=True,
    params=f"login text, {_PERIOD}",
)
LEAD_SOURCE_COUNTS = Function(
    "perfdesk_lead_source_counts(timestamptz, timestamptz)",
    f"TABLE({_SOURCE_COLUMNS})",
    "sql",
    f"SELECT * FROM public.perfdesk_lead_source_counts_for({_CALLER}, period_start, period_end)",
    definer=False,
    params=_PERIOD,
)
ANALYTICS_FUNCTIONS: tuple[Function, ...] = (LEAD_SOURCE_COUNTS_FOR, LEAD_SOURCE_COUNTS)


# ---------------------------------------------------------------------------- migration


def upgrade_statements() -> list[str]:
    """Functions first (the policies call them), then row-level security, then grants."""
    sql: list[str] = []
    for fn in FUNCTIONS:
        sql.append(fn.create_sql())
        sql.extend(fn.privilege_sql())
    for table in RLS_TABLES:
        sql.append(f"ALTER TABLE public.{table} ENABLE ROW LEVEL SECURITY")
    sql.extend(p.create_sql() for p in POLICIES)
    sql.extend(grant_sql(GRANTS))
    return sql


def downgrade_statements() -> list[str]:
    sql = ungrant_sql(GRANTS)
    sql.extend(p.drop_sql() for p in POLICIES)
    sql.extend(f"ALTER TABLE public.{table} DISABLE ROW LEVEL SECURITY" for table in RLS_TABLES)
    sql.extend(fn.drop_sql() for fn in reversed(FUNCTIONS))
    return sql
