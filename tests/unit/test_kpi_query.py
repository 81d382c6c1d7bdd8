"""The text checks a query KPI's SQL passes before it is saved or run (app/domain/kpi_query.py)."""

from __future__ import annotations

import pytest

from app.domain.errors import ValidationError
from app.domain.kpi_query import (
    MAX_LENGTH,
    QueryRefused,
    check_query_text,
    parameters_used,
    rewrite,
    tokenize,
)

Q = (
    "SELECT COUNT(*) FROM leads WHERE owner_id = :user_id"
    " AND created_at >= :start_date AND created_at < :end_date"
)


def refused(sql: str) -> str:
    with pytest.raises(QueryRefused) as info:
        check_query_text(sql)
    return str(info.value)


def test_a_refusal_is_a_validation_error() -> None:
    assert issubclass(QueryRefused, ValidationError)


def test_a_good_query_comes_back_normalised() -> None:
    assert check_query_text(Q) == Q
    assert check_query_text(f"\n  {Q} ;  \n") == Q
    assert check_query_text(f"{Q};") == Q


def test_with_and_lower_case_and_leading_comments_are_fine() -> None:
    sql = "-- leads\n/* this month */ with x as (select 1 as n) select n from x where :user_id > 0"
    assert check_query_text(sql) == sql


def test_tokens_put_back_together_give_the_text() -> None:
    sql = "SELECT 'a''b' AS \"c\"\"d\", x::numeric -- :foo\n/* ; */ FROM t WHERE id = :user_id;"
    assert "".join(t.text for t in tokenize(sql)) == sql


@pytest.mark.parametrize("sql", ["", "   ", "\n\t", ";", "-- nothing\n"])
def test_an_empty_query_is_refused(sql: str) -> None:
    message = refused(sql)
    assert "empty" in message or "must start with SELECT or WITH" in message


def test_a_too_long_query_is_refused() -> None:
    sql = Q + " AND name <> '" + "x" * MAX_LENGTH + "'"
    assert f"the limit is {MAX_LENGTH}" in refused(sql)


def test_a_nul_character_is_refused() -> None:
    assert "NUL" in refused(Q + " AND name <> '\x00'")


def test_two_statements_are_refused() -> None:
    assert "more than one statement" in refused(f"{Q}; DELETE FROM leads")
    assert "more than one statement" in refused(
        "SELECT 1 FROM leads WHERE owner_id = :user_id; DELETE FROM leads"
    )
    assert "more than one statement" in refused(f"{Q};;")


def test_a_semicolon_inside_a_literal_or_comment_is_fine() -> None:
    sql = f"{Q} AND name <> 'a; DELETE FROM leads' /* ; */ -- ; trailing"
    assert check_query_text(sql) == sql
    assert check_query_text('SELECT count(*) AS "a;b" FROM leads WHERE owner_id = :user_id')


def test_a_trailing_comment_after_the_semicolon_is_fine() -> None:
    assert check_query_text(f"{Q}; -- done") == f"{Q} -- done"


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM leads WHERE owner_id = :user_id",
        "UPDATE leads SET status = 'lost' WHERE owner_id = :user_id",
        "INSERT INTO leads (owner_id) VALUES (:user_id)",
        "DROP TABLE leads",
        "PRAGMA writable_schema = 1",
        "VALUES (:user_id)",
        "(SELECT :user_id)",
        "-- SELECT\nDELETE FROM leads WHERE owner_id = :user_id",
    ],
)
def test_anything_but_select_or_with_is_refused(sql: str) -> None:
    assert "must start with SELECT or WITH" in refused(sql)


def test_an_unknown_parameter_is_refused_and_the_allowed_ones_listed() -> None:
    message = refused(Q + " AND status = :status")
    assert ":status" in message
    assert ":user_id, :start_date and :end_date" in message
    assert ":user_idx" in refused("SELECT count(*) FROM leads WHERE owner_id = :user_idx")
    assert ":USER_ID" in refused("SELECT count(*) FROM leads WHERE owner_id = :USER_ID")


def test_a_parameter_look_alike_inside_a_literal_or_comment_is_fine() -> None:
    sql = f"{Q} AND name <> ':foo' AND \"weird:bar\" IS NULL -- :baz\n /* :qux */"
    assert check_query_text(sql) == sql
    assert parameters_used(sql) == {"user_id", "start_date", "end_date"}


def test_casts_are_not_parameters() -> None:
    sql = "SELECT SUM(list_price)::numeric FROM listings WHERE agent_id = :user_id::bigint"
    assert check_query_text(sql) == sql
    assert parameters_used(sql) == {"user_id"}


def test_time_literals_are_not_parameters() -> None:
    sql = "SELECT count(*) FROM appointments WHERE agent_id = :user_id AND x > '10:30:00'"
    assert parameters_used(check_query_text(sql)) == {"user_id"}


def test_the_query_must_use_user_id() -> None:
    message = refused("SELECT COUNT(*) FROM leads WHERE created_at >= :start_date")
    assert message == "the query must use :user_id so each person gets their own value"
    assert "must use :user_id" in refused("SELECT 1 -- :user_id")


@pytest.mark.parametrize(
    ("sql", "words"),
    [
        ("SELECT $$x$$ FROM leads WHERE owner_id = :user_id", "dollar-quoted"),
        ("SELECT $tag$x$tag$ FROM leads WHERE owner_id = :user_id", "dollar-quoted"),
        ("SELECT count(*) FROM leads WHERE owner_id = $1", "positional"),
        ("SELECT count(*) FROM leads WHERE owner_id = $user_id", "colon"),
        ("SELECT E'\\'' FROM leads WHERE owner_id = :user_id", "escape strings"),
        ("SELECT 'open FROM leads WHERE owner_id = :user_id", "not closed"),
        ('SELECT "open FROM leads WHERE owner_id = :user_id', "not closed"),
        ("SELECT 1 /* open WHERE :user_id > 0", "not closed"),
        ("SELECT 1 /* a /* b */ */ WHERE :user_id > 0", "nested"),
    ],
)
def test_what_the_tokenizer_cannot_read_safely_is_refused(sql: str, words: str) -> None:
    assert words in refused(sql)


def test_identifiers_with_a_dollar_are_fine() -> None:
    sql = "SELECT count(*) AS a$b FROM leads WHERE owner_id = :user_id"
    assert check_query_text(sql) == sql


def test_rewrite_replaces_parameters_only() -> None:
    sql = "SELECT ':user_id', x::int FROM t WHERE a = :user_id AND b LIKE '5%' -- :user_id"
    out = rewrite(sql, lambda name: f"%({name})s", lambda text: text.replace("%", "%%"))
    assert out == (
        "SELECT ':user_id', x::int FROM t WHERE a = %(user_id)s AND b LIKE '5%%' -- :user_id"
    )
