"""The managers hear of post-close trouble (SPEC §9, issue "post-close performance" item 5): a
buy box entering WARNING or CRITICAL, or a buyer's engagement score dropping by 10 points or
more, notifies every active manager in-app, and by email where the office has set email up
(app/services/postclose/alerts.py); on PostgreSQL a person's own login raises them through the
SECURITY DEFINER ``notify_managers`` (migration 0009), and buyers and buy boxes are written
only by closers, brokers, managers and admins (item 7).

On PostgreSQL the test login is the database owner, which is no person, so the services are
called naming the acting person (``acting=``); the shared-mode tests log in as the person."""

from __future__ import annotations

import datetime as dt
import os
import select
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app.db.models import NotificationSetting, User
from app.db.models.notifications import Notification, NotificationDelivery
from app.domain.enums import NotificationType
from app.services import notifications as notes
from app.services import schema
from app.services.database import Database, open_database
from app.services.delivery import run as delivery
from app.services.delivery.settings import SmsSettings, SmtpSettings, save_delivery_settings
from app.services.live import Listener
from app.services.postclose import catalog, periods, records
from app.services.postclose.alerts import notify_managers
from app.services.postclose.feedback import Alert
from app.services.postclose.periods import GridRow
from app.services.postclose.regrade import recalculate_all
from app.services.users import add_user

TODAY = dt.date(2026, 3, 15)
NOW = dt.datetime(2026, 3, 15, 12, tzinfo=dt.UTC)

#: Against a projection of rent 2,400, NOI 1,700, cash flow 350, DSCR 1.30 and a required
#: DSCR of 1.10 (test_postclose_feedback.py works them out): graded A (cash flow +30) and D
#: (DSCR 0.95 < 1.00, cash flow +10).
A = {
    "actual_rent_collected": "2450", "actual_vacancy_rate": "0.02", "expenses_total": "700",
    "actual_noi": "1750", "actual_monthly_cash_flow": "380", "actual_dscr": "1.35",
}  # fmt: skip
D = {
    "actual_rent_collected": "2400", "actual_vacancy_rate": "0", "expenses_total": "700",
    "actual_noi": "1700", "actual_monthly_cash_flow": "360", "actual_dscr": "0.95",
}  # fmt: skip


def mail(name: str) -> str:
    """Emails are PostgreSQL login roles (cluster-wide): unique per test process."""
    return f"{name}.{os.getpid()}@alerts.example"


PEOPLE = {
    "bob": ("broker", "Bob", "Broker"),
    "mia": ("manager", "Mia", "Manager"),
    "max": ("manager", "Max", "Manager"),
    "old": ("manager", "Olga", "Gone"),  # deactivated
    "adm": ("admin", "Ada", "Admin"),
    "cleo": ("closer", "Cleo", "Closer"),
    "ann": ("agent", "Ann", "Lee"),
    "tia": ("dialer", "Tia", "Dial"),
}


@dataclass(frozen=True)
class Office:
    db: Database
    ids: dict[str, int]
    box: int  # "Bakersfield SFR", minimum DSCR 1.10
    xavier: int  # buyer of the box's first property
    yara: int  # buyer of its second
    zed: int  # buyer of two properties outside any box

    def record(self, ref: str, buyer: int, box: int | None) -> int:
        texts = {
            "ref": ref, "market_key": "CA-BAKERSFIELD", "strategy": "buy_hold",
            "closed_date": "2025-12-01", "purchase_price": "300000", "loan_type": "DSCR",
            "projected_rent": "2400", "projected_noi": "1700",
            "projected_monthly_cash_flow": "350", "projected_dscr": "1.30",
        }  # fmt: skip
        return records.create_record(self.db, texts, buyer, box, acting=mail("cleo"), today=TODAY)


def build_office(db: Database, smtp: bool = True) -> Office:
    for key, (role, first, last) in PEOPLE.items():
        broker = None if key == "bob" else mail("bob")
        add_user(db, mail(key), role, first, last, broker_email=broker)
    with db.session() as s:
        s.execute(sa.update(User).where(User.email == mail("old")).values(is_active=False))
        ids = {u.email.split(".")[0]: u.id for u in s.scalars(sa.select(User))}
    if smtp:
        save_delivery_settings(
            db,
            SmtpSettings("smtp.office.example", 587, "starttls", "", "office@office.example"),
            SmsSettings(),
        )
    bob = mail("bob")

    def buyer(name: str) -> int:
        return catalog.save_buyer(db, {"name": name, "email": "", "phone": ""}, acting=bob)

    xavier, yara, zed = buyer("Xavier Capital"), buyer("Yara Homes"), buyer("Zed Partners")
    box = catalog.save_buy_box(
        db,
        {
            "ref": "BB-1", "name": "Bakersfield SFR", "market_key": "CA-BAKERSFIELD",
            "strategy": "buy_hold", "min_dscr": "1.10", "buyer_id": "",
        },
        acting=bob,
    ).id  # fmt: skip
    return Office(db, ids, box, xavier, yara, zed)


@pytest.fixture
def office(db: Database) -> Office:
    return build_office(db)


def alerts_of(db: Database) -> list[tuple[str, int, str, int, int | None]]:
    """(type, recipient, entity type, entity id, agent) of every notification, in order."""
    with db.read() as s:
        return [
            (str(n.type), n.recipient_id, n.entity_type, n.entity_id, n.agent_id)
            for n in s.scalars(sa.select(Notification).order_by(Notification.id))
        ]


def deliveries_of(db: Database) -> list[tuple[int, str, str]]:
    """(recipient, channel, status) of every queued delivery."""
    with db.read() as s:
        d = NotificationDelivery
        rows = s.execute(
            sa.select(Notification.recipient_id, d.channel, d.status)
            .join(Notification, Notification.id == d.notification_id)
            .order_by(d.id)
        ).all()
    return [(r, str(c), str(st)) for r, c, st in rows]


def box_falls_to_warning(o: Office, db: Database | None = None, who: str = "mia") -> None:
    """Two properties of the box (different buyers, so no buyer's score drops): A, then D:
    50 % graded A or B, WARNING."""
    r1, r2 = o.record("BX-1", o.xavier, o.box), o.record("BX-2", o.yara, o.box)
    on = db or o.db
    first = periods.add_period(on, r1, 2026, 2, A, acting=mail(who), today=TODAY)
    assert first.alerts == ()
    second = periods.add_period(on, r2, 2026, 2, D, acting=mail(who), today=TODAY)
    assert [a.kind for a in second.alerts] == ["buy_box.warning"]


# -- both backends ------------------------------------------------------------------------------


def test_a_box_falling_below_60_percent_notifies_each_manager_once(office: Office) -> None:
    o = office
    box_falls_to_warning(o)
    managers = [o.ids["mia"], o.ids["max"]]  # not the deactivated one, nor anyone else
    assert alerts_of(o.db) == [("buy_box.warning", m, "buy_box", o.box, None) for m in managers]
    assert deliveries_of(o.db) == [(m, "email", "pending") for m in managers]
    [row] = notes.list_notifications(o.db, acting=mail("mia")).rows
    assert row.title == "Buy box Bakersfield SFR is WARNING"
    assert row.body == "Only 50.00% of its properties are graded A or B (below 60%)."
    assert row.agent_name == "" and row.page == "buy_boxes"  # the bell opens the Buy boxes page
    for who in ("ann", "tia", "bob", "adm", "cleo"):
        assert notes.list_notifications(o.db, acting=mail(who)).rows == ()


def test_a_buyers_score_dropping_10_points_notifies_the_managers(office: Office) -> None:
    o = office
    r3, r4 = o.record("Z-1", o.zed, None), o.record("Z-2", o.zed, None)
    assert periods.add_period(o.db, r3, 2026, 2, A, acting=mail("bob"), today=TODAY).alerts == ()
    # Zed: 100 with one A; 50 once a D joins it.
    saved = periods.save_month(o.db, 2026, 3, [GridRow(r4, D)], acting=mail("bob"), today=TODAY)
    assert [a.kind for a in saved.alerts] == ["buyer.score_drop"]
    assert alerts_of(o.db) == [
        ("buyer.score_drop", o.ids[m], "buyer", o.zed, None) for m in ("mia", "max")
    ]
    [row] = notes.list_notifications(o.db, acting=mail("max")).rows
    assert row.title == "Zed Partners's engagement score fell to 50.00"
    assert row.page == "buyers"


def test_no_alert_notifies_nobody(office: Office) -> None:
    o = office
    rid = o.record("BX-1", o.xavier, o.box)
    saved = periods.add_period(o.db, rid, 2026, 2, A, acting=mail("mia"), today=TODAY)
    version = periods.get_period(o.db, saved.period_id).version
    changed = periods.update_period(o.db, saved.period_id, A, version, acting=mail("mia"))
    assert saved.alerts == changed.alerts == ()
    assert alerts_of(o.db) == [] and deliveries_of(o.db) == []
    with o.db.session() as s:
        assert notify_managers(s, o.db, []) == 0


def test_without_email_set_up_the_managers_get_the_in_app_notification_only(
    db: Database,
) -> None:
    o = build_office(db, smtp=False)
    box_falls_to_warning(o)
    assert len(alerts_of(db)) == 2
    assert deliveries_of(db) == []


def test_a_managers_settings_row_is_honoured(office: Office) -> None:
    o = office
    with o.db.session() as s:
        s.add(NotificationSetting(broker_id=o.ids["mia"], channel_in_app=False))
        s.add(NotificationSetting(broker_id=o.ids["max"], channel_email=False, channel_sms=True))
    box_falls_to_warning(o)
    # Mia turned in-app off: nothing; Max turned email off: in-app only (SMS is not set up).
    assert alerts_of(o.db) == [("buy_box.warning", o.ids["max"], "buy_box", o.box, None)]
    assert deliveries_of(o.db) == []


def test_the_email_names_the_buy_box_and_no_agent(office: Office) -> None:
    o = office
    box_falls_to_warning(o)
    sent: list[EmailMessage] = []
    run = delivery.send_pending(o.db, NOW, smtp_sender=lambda _smtp, _pw, m: sent.append(m))
    assert (run.sent, run.failed) == (2, 0)
    assert sorted(str(m["To"]) for m in sent) == sorted([mail("mia"), mail("max")])
    body = sent[0].get_content()
    assert sent[0]["Subject"] == "Buy box Bakersfield SFR is WARNING"
    assert "below 60%" in body and "Open PerfDesk to see the buy box." in body
    assert "Agent:" not in body


def test_recalculate_all_notifies_a_box_that_enters_warning(office: Office) -> None:
    o = office
    box_falls_to_warning(o)
    with o.db.session() as s:  # as if the box had never been rated
        s.execute(sa.text("UPDATE buy_boxes SET performance_rate = NULL, warning_level = NULL"))
        s.execute(sa.delete(Notification))
    result = recalculate_all(o.db)
    assert [a.kind for a in result.alerts] == ["buy_box.warning"]
    assert [(t, r) for t, r, *_ in alerts_of(o.db)] == [
        ("buy_box.warning", o.ids["mia"]),
        ("buy_box.warning", o.ids["max"]),
    ]


def test_the_alert_types_have_no_settings_switch_and_are_wanted() -> None:
    setting = NotificationSetting(
        notify_escrow_created=False, channel_in_app=True, channel_email=True
    )
    assert setting.wants(NotificationType.BUY_BOX_WARNING)
    assert setting.wants(NotificationType.BUYER_SCORE_DROP)
    assert not setting.wants(NotificationType.ESCROW_CREATED)
    assert notes.ENTITY_OF[NotificationType.BUY_BOX_WARNING] == "buy_box"
    assert notes.PAGE_OF["buyer"] == "buyers"
    assert set(notes.TYPE_LABELS) == set(NotificationType)


# -- migration 0009 -----------------------------------------------------------------------------

_INSERT_NOTE = (
    "INSERT INTO notifications (recipient_id, type, entity_type, entity_id, title, created_at) "
    "VALUES (:r, :t, 'escrow', 1, 'x', CURRENT_TIMESTAMP)"
)
_INSERT_DELIVERY = (
    "INSERT INTO notification_deliveries (notification_id, channel, status, attempts, "
    "created_at) VALUES (:n, 'email', 'pending', 0, CURRENT_TIMESTAMP)"
)


def _note(db: Database, recipient: int, kind: str) -> int:
    with db.engine.begin() as c:
        c.execute(sa.text(_INSERT_NOTE), {"r": recipient, "t": kind})
        note = int(c.execute(sa.text("SELECT max(id) FROM notifications")).scalar_one())
        c.execute(sa.text(_INSERT_DELIVERY), {"n": note})
    return note


def _kept(db: Database) -> tuple[list[tuple[int, str]], list[int]]:
    with db.engine.connect() as c:
        notes_ = c.execute(sa.text("SELECT id, type FROM notifications ORDER BY id")).all()
        sent = c.execute(sa.text("SELECT notification_id FROM notification_deliveries")).all()
    return [(int(i), str(t)) for i, t in notes_], sorted(int(n) for (n,) in sent)


def _refused(db: Database, recipient: int, kind: str) -> bool:
    try:
        _note(db, recipient, kind)
    except sa.exc.IntegrityError:
        return True
    return False


def test_migration_0009_on_sqlite_keeps_the_deliveries_and_goes_down_again(
    tmp_path: Path,
) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    try:
        schema._run_upgrade(db, "0008")
        bob = add_user(db, mail("bob"), "broker", "Bob", "Broker").id
        old = _note(db, bob, "escrow.created")
        assert _refused(db, bob, "buy_box.warning")  # 0001's CHECK

        schema._run_upgrade(db, "0009")
        # Copying the table (batch mode) must not cascade to the deliveries.
        assert _kept(db) == ([(old, "escrow.created")], [old])
        new = _note(db, bob, "buyer.score_drop")
        assert _refused(db, bob, "nonsense")

        schema.downgrade(db, "0008")
        assert _kept(db) == ([(old, "escrow.created")], [old])  # the alert went, with its email
        assert _refused(db, bob, "buyer.score_drop") and new not in _kept(db)[1]
        schema._run_upgrade(db, "head")
        schema.check_drift(db)
    finally:
        db.dispose()


# -- PostgreSQL: shared mode --------------------------------------------------------------------


def _login(db: Database, email: str) -> Database:
    """A connection as that person's own PostgreSQL login (the test server trusts it)."""
    return open_database(make_url(db.url).set(username=email).render_as_string(False))


@pytest.fixture
def logins(pg_db: Database) -> Iterator[tuple[Office, dict[str, Database]]]:
    o = build_office(pg_db)
    held: dict[str, Database] = {}
    yield o, held
    for db in held.values():
        db.dispose()


def _as(held: dict[str, Database], o: Office, who: str) -> Database:
    if who not in held:
        held[who] = _login(o.db, mail(who))
    return held[who]


def _sqlstate(exc: BaseException) -> str | None:
    return getattr(getattr(exc, "orig", None), "sqlstate", None)


NOTIFY = "SELECT public.notify_managers(:kind, :entity, :id, 'title', 'body')"


@pytest.mark.pg
def test_a_managers_own_login_notifies_the_managers_through_the_server(
    logins: tuple[Office, dict[str, Database]],
) -> None:
    o, held = logins
    with o.db.session() as s:  # a settings row (email on) must not stop the alert's email
        s.add(NotificationSetting(broker_id=o.ids["max"]))
    as_mia = _as(held, o, "mia")
    box_falls_to_warning(o, as_mia)
    managers = [o.ids["mia"], o.ids["max"]]
    assert alerts_of(o.db) == [("buy_box.warning", m, "buy_box", o.box, None) for m in managers]
    assert deliveries_of(o.db) == [(m, "email", "pending") for m in managers]
    [mine] = notes.list_notifications(as_mia).rows  # row-level security: her own only
    assert (mine.recipient_id, mine.page) == (o.ids["mia"], "buy_boxes")
    assert notes.list_notifications(_as(held, o, "ann")).rows == ()


@pytest.mark.pg
def test_a_brokers_own_login_notifies_a_buyers_drop_through_the_server(
    logins: tuple[Office, dict[str, Database]],
) -> None:
    o, held = logins
    as_bob = _as(held, o, "bob")
    r3, r4 = o.record("Z-1", o.zed, None), o.record("Z-2", o.zed, None)
    periods.add_period(as_bob, r3, 2026, 2, A, acting=mail("bob"), today=TODAY)
    saved = periods.save_month(as_bob, 2026, 3, [GridRow(r4, D)], today=TODAY)
    assert [a.kind for a in saved.alerts] == ["buyer.score_drop"]
    assert [(t, r, e) for t, r, e, _i, _a in alerts_of(o.db)] == [
        ("buyer.score_drop", o.ids[m], "buyer") for m in ("mia", "max")
    ]


@pytest.mark.pg
@pytest.mark.parametrize("who", ["tia", "ann"])
def test_dialers_and_agents_read_buyers_and_buy_boxes_and_write_none(
    logins: tuple[Office, dict[str, Database]], who: str
) -> None:
    o, held = logins
    engine = _as(held, o, who).engine
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT count(*) FROM buy_boxes")).scalar() == 1
        assert c.execute(sa.text("SELECT count(*) FROM buyers")).scalar() == 3
    writes = [
        "INSERT INTO buy_boxes (name, market_key, strategy, min_dscr, created_at, version) "
        "VALUES ('Mine', 'CA-X', 'buy_hold', 1.2, now(), 1)",
        "INSERT INTO buyers (name, created_at, version) VALUES ('Mine', now(), 1)",
        "UPDATE buy_boxes SET min_dscr = 0.5",
        "UPDATE buyers SET engagement_score = 100",
        "DELETE FROM buy_boxes",
        "DELETE FROM buyers",
    ]
    for sql in writes:
        with pytest.raises(sa.exc.DBAPIError) as caught, engine.begin() as c:
            c.execute(sa.text(sql))
        assert _sqlstate(caught.value) == "42501", sql
    # Nor may they alert the managers, even about a box that is in WARNING.
    with o.db.session() as s:
        s.execute(sa.text("UPDATE buy_boxes SET warning_level = 'WARNING'"))
    with pytest.raises(sa.exc.DBAPIError) as caught, engine.begin() as c:
        c.execute(sa.text(NOTIFY), {"kind": "buy_box.warning", "entity": "buy_box", "id": o.box})
    assert _sqlstate(caught.value) == "42501"
    assert alerts_of(o.db) == []


@pytest.mark.pg
def test_closers_write_buyers_and_buy_boxes_and_only_admins_delete(
    logins: tuple[Office, dict[str, Database]],
) -> None:
    o, held = logins
    insert = (
        "INSERT INTO buy_boxes (name, market_key, strategy, min_dscr, created_at, version) "
        "VALUES ('Spare', 'CA-X', 'buy_hold', 1.2, now(), 1)"
    )
    for who in ("cleo", "bob", "mia", "adm"):
        with _as(held, o, who).engine.connect() as c:
            c.execute(sa.text(insert))
            c.execute(sa.text("UPDATE buyers SET phone = '555'"))
            c.rollback()
    for who in ("cleo", "bob", "mia"):
        with pytest.raises(sa.exc.DBAPIError) as caught, _as(held, o, who).engine.begin() as c:
            c.execute(sa.text("DELETE FROM buy_boxes"))
        assert _sqlstate(caught.value) == "42501", who
    with _as(held, o, "adm").engine.connect() as c:
        assert c.execute(sa.text("DELETE FROM buy_boxes")).rowcount == 1
        c.rollback()
    # A closer is no period writer: the server refuses them the alert too.
    with pytest.raises(sa.exc.DBAPIError) as caught, _as(held, o, "cleo").engine.begin() as c:
        c.execute(sa.text(NOTIFY), {"kind": "buyer.score_drop", "entity": "buyer", "id": o.zed})
    assert _sqlstate(caught.value) == "42501"


@pytest.mark.pg
def test_the_server_checks_what_it_is_told(logins: tuple[Office, dict[str, Database]]) -> None:
    o, held = logins
    engine = _as(held, o, "mia").engine
    bad = [
        ("escrow.created", "escrow", 1),  # no manager alert
        ("buy_box.warning", "buy_box", o.box),  # the box is not in WARNING or CRITICAL
        ("buyer.score_drop", "buy_box", o.zed),  # the entity does not match the kind
        ("buyer.score_drop", "buyer", 999_999),  # no such buyer
    ]
    for kind, entity, rid in bad:
        with pytest.raises(sa.exc.DBAPIError) as caught, engine.begin() as c:
            c.execute(sa.text(NOTIFY), {"kind": kind, "entity": entity, "id": rid})
        assert _sqlstate(caught.value) == "22023", kind
    # Nobody asks in another login's name.
    with pytest.raises(sa.exc.DBAPIError) as caught, engine.begin() as c:
        c.execute(
            sa.text(
                "SELECT public.notify_managers_for(:login, 'buyer.score_drop', 'buyer', :id, "
                "'t', 'b')"
            ),
            {"login": mail("bob"), "id": o.zed},
        )
    assert _sqlstate(caught.value) == "42501"
    good = {"kind": "buyer.score_drop", "entity": "buyer", "id": o.zed}
    with engine.begin() as c:  # a good call: both active managers
        assert c.execute(sa.text(NOTIFY), good).scalar() == 2
    with o.db.session() as s:  # the service's direct path agrees
        alert = Alert("buyer.score_drop", o.zed, "t", "b")
        assert notify_managers(s, o.db, [alert]) == 2
    assert len(alerts_of(o.db)) == 4


def _wait_for(listener: Listener, *want: str, timeout: float = 2.0) -> set[str]:
    """The kinds drained until every one of ``want`` came (or the time ran out)."""
    seen: set[str] = set()
    deadline = time.monotonic() + timeout
    while not seen.issuperset(want) and (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([listener.fileno()], [], [], left)
        if ready:
            seen.update(listener.drain())
    return seen


@pytest.mark.pg
def test_post_close_changes_reach_other_workstations(pg_db: Database) -> None:
    o = build_office(pg_db)
    rid = o.record("BX-1", o.xavier, o.box)
    with Listener(pg_db.url) as listener:
        catalog.save_buyer(pg_db, {"name": "New", "email": "", "phone": ""}, acting=mail("bob"))
        assert _wait_for(listener, "buyers") == {"buyers"}
        # The month, its record's grade, the box's rate, the buyer's score, the alerts.
        periods.add_period(pg_db, rid, 2026, 2, D, acting=mail("mia"), today=TODAY)
        wanted = ("rent_roll", "buy_boxes", "buyers", "notifications")
        assert _wait_for(listener, *wanted) == set(wanted)


@pytest.mark.pg
def test_migration_0009_on_postgresql_goes_down_and_up_again(pg_db: Database) -> None:
    def rows(sql: str) -> list[tuple[object, ...]]:
        with pg_db.engine.connect() as c:
            return [tuple(r) for r in c.execute(sa.text(sql))]

    bob = add_user(pg_db, mail("bob"), "broker", "Bob", "Broker").id
    old, new = _note(pg_db, bob, "escrow.created"), _note(pg_db, bob, "buy_box.warning")
    functions = "SELECT proname FROM pg_proc WHERE proname LIKE 'notify_managers%' ORDER BY 1"
    triggers = (
        "SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname = 'notify_change' AND "
        "tgrelid::regclass::text IN ('buyers', 'buy_boxes', 'deal_performances', "
        "'performance_periods') ORDER BY 1"
    )
    may_insert = "SELECT has_table_privilege('perfdesk_user', 'buy_boxes', 'INSERT')"
    assert rows(functions) == [("notify_managers",), ("notify_managers_for",)]
    assert len(rows(triggers)) == 4 and rows(may_insert) == [(False,)]
    assert rows("SELECT has_table_privilege('perfdesk_closer', 'buyers', 'UPDATE')") == [(True,)]

    schema.downgrade(pg_db, "0008")
    assert rows(functions) == [] and rows(triggers) == [] and rows(may_insert) == [(True,)]
    assert _kept(pg_db) == ([(old, "escrow.created")], [old])  # the alert went
    assert new not in _kept(pg_db)[1] and _refused(pg_db, bob, "buy_box.warning")

    assert schema.prepare(pg_db).state == "upgraded"
    schema.check_drift(pg_db)
    assert rows(functions) == [("notify_managers",), ("notify_managers_for",)]
    assert len(rows(triggers)) == 4 and rows(may_insert) == [(False,)]
