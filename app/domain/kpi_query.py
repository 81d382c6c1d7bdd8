"""Query KPIs: the checks a KPI's SQL must pass before it is saved or run (SPEC §7).

A query KPI is one SQL statement that returns a single number for one person and one period.
It may use exactly three named parameters:

- ``:user_id``    the person (required: each person must get their own value);
- ``:start_date`` the first day of the period;
- ``:end_date``   the day AFTER the period's last day, so a query writes
  ``created_at >= :start_date AND created_at < :end_date``.

What ``check_query_text`` refuses (with a message meant for the person who wrote it):

- an empty query, or one longer than ``MAX_LENGTH`` characters, or one holding a NUL;
- more than one statement: a ``;`` outside string literals and comments followed by anything
  but whitespace or comments (one trailing ``;`` is dropped);
- a query that does not start, after comments, with ``SELECT`` or ``WITH``;
- any named parameter other than the three (``::type`` casts and text inside string literals,
  quoted identifiers and comments are not parameters), and a query without ``:user_id``;
- what the small tokenizer here does not read the same way on both backends: dollar-quoted
  strings (``$$…$$``), ``E'…'`` escape strings, positional parameters (``$1``), nested or
  unclosed comments, and unclosed literals.

These checks are about shape only. Whether the query reads and never writes is enforced when
it runs (app/services/kpis/query.py: a read-only connection or transaction and a time limit).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from app.domain.errors import ValidationError

ALLOWED_PARAMETERS = ("user_id", "start_date", "end_date")
MAX_LENGTH = 4000
_ALLOWED_TEXT = ":user_id, :start_date and :end_date"
_FIRST_WORDS = ("SELECT", "WITH")


class QueryRefused(ValidationError):
    """A query KPI's SQL that may not be saved or run; the message says why."""


class Kind(Enum):
    SPACE = "space"
    COMMENT = "comment"
    STRING = "string"  # '…'
    QUOTED = "quoted"  # "…" (an identifier)
    WORD = "word"  # a keyword, an identifier or a number
    PARAMETER = "parameter"  # :name
    SEMICOLON = "semicolon"
    OTHER = "other"  # operators, punctuation, ``::``


#: Tokens that execute nothing.
_SILENT = (Kind.SPACE, Kind.COMMENT)


@dataclass(frozen=True)
class Token:
    kind: Kind
    text: str

    @property
    def name(self) -> str:
        """A parameter's name, without the colon."""
        return self.text[1:]


def _is_word_start(ch: str) -> bool:
    return ch.isalpha() or ch == "_"


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch in "_$"


class _Scanner:
    """Splits SQL into tokens; ``"".join(t.text for t in tokens) == sql`` always holds."""

    def __init__(self, sql: str) -> None:
        self.sql = sql
        self.pos = 0
        self.tokens: list[Token] = []

    def run(self) -> list[Token]:
        while self.pos < len(self.sql):
            self._one()
        return self.tokens

    def _emit(self, kind: Kind, end: int) -> None:
        self.tokens.append(Token(kind, self.sql[self.pos : end]))
        self.pos = end

    def _one(self) -> None:
        sql, i = self.sql, self.pos
        ch, nxt = sql[i], sql[i + 1 : i + 2]
        if ch.isspace():
            self._emit(Kind.SPACE, self._while(i, str.isspace))
        elif ch == "-" and nxt == "-":
            end = sql.find("\n", i)
            self._emit(Kind.COMMENT, len(sql) if end < 0 else end)
        elif ch == "/" and nxt == "*":
            self._emit(Kind.COMMENT, self._block_comment_end(i))
        elif ch in "'\"":
            self._emit(Kind.STRING if ch == "'" else Kind.QUOTED, self._quoted_end(i, ch))
        elif ch == "$":
            self._dollar(i)
        elif ch == ":":
            self._colon(i)
        elif _is_word_char(ch):
            self._word(i)
        elif ch == ";":
            self._emit(Kind.SEMICOLON, i + 1)
        else:
            self._emit(Kind.OTHER, i + 1)

    def _while(self, i: int, test: Callable[[str], bool]) -> int:
        while i < len(self.sql) and test(self.sql[i]):
            i += 1
        return i

    def _block_comment_end(self, start: int) -> int:
        end = self.sql.find("*/", start + 2)
        if end < 0:
            raise QueryRefused("a /* comment is not closed with */")
        if "/*" in self.sql[start + 2 : end]:
            raise QueryRefused("nested /* comments */ are not supported")
        return end + 2

    def _quoted_end(self, start: int, quote: str) -> int:
        i = start + 1
        while True:
            end = self.sql.find(quote, i)
            if end < 0:
                what = "a string literal" if quote == "'" else "a quoted identifier"
                raise QueryRefused(f"{what} starting with {quote} is not closed")
            if self.sql[end + 1 : end + 2] != quote:  # a doubled quote stands for itself
                return end + 1
            i = end + 2

    def _dollar(self, i: int) -> None:
        rest = self.sql[i + 1 :]
        if rest[:1].isdigit():
            raise QueryRefused(
                f"positional parameters such as ${rest[:1]} are not supported; use {_ALLOWED_TEXT}"
            )
        tag_end = self._while(i + 1, lambda c: _is_word_char(c) and c != "$")
        if self.sql[tag_end : tag_end + 1] == "$":
            raise QueryRefused("dollar-quoted strings ($$…$$) are not supported; use '…'")
        if tag_end > i + 1:
            raise QueryRefused(
                f"the query uses {self.sql[i:tag_end]}; parameters are written with a colon, "
                f"and only {_ALLOWED_TEXT} are allowed"
            )
        self._emit(Kind.OTHER, i + 1)

    def _colon(self, i: int) -> None:
        nxt = self.sql[i + 1 : i + 2]
        if nxt == ":":  # a ::type cast
            self._emit(Kind.OTHER, i + 2)
        elif nxt and _is_word_start(nxt):
            self._emit(Kind.PARAMETER, self._while(i + 1, lambda c: c.isalnum() or c == "_"))
        else:
            self._emit(Kind.OTHER, i + 1)

    def _word(self, i: int) -> None:
        end = self._while(i, _is_word_char)
        if end - i == 1 and self.sql[i] in "eE" and self.sql[end : end + 1] == "'":
            raise QueryRefused("E'…' escape strings are not supported; use '…'")
        self._emit(Kind.WORD, end)


def tokenize(sql: str) -> list[Token]:
    """The tokens of ``sql``; raises QueryRefused for what cannot be read safely."""
    return _Scanner(sql).run()


def parameters_used(sql: str) -> set[str]:
    """The names of the ``:name`` parameters ``sql`` uses (outside literals and comments)."""
    return {t.name for t in tokenize(sql) if t.kind is Kind.PARAMETER}


def _drop_final_semicolon(tokens: list[Token]) -> list[Token]:
    for n, token in enumerate(tokens):
        if token.kind is not Kind.SEMICOLON:
            continue
        if any(t.kind not in _SILENT for t in tokens[n + 1 :]):
            raise QueryRefused(
                "the query holds more than one statement; a KPI query is a single SELECT"
            )
        return tokens[:n] + tokens[n + 1 :]
    return tokens


def _check_first_word(tokens: list[Token]) -> None:
    first = next((t for t in tokens if t.kind not in _SILENT), None)
    if first is None:
        raise QueryRefused("the query is empty")
    if first.kind is not Kind.WORD or first.text.upper() not in _FIRST_WORDS:
        raise QueryRefused(
            f"a KPI query must start with SELECT or WITH (this one starts with {first.text!r})"
        )


def _check_parameters(tokens: list[Token]) -> None:
    names = [t.name for t in tokens if t.kind is Kind.PARAMETER]
    unknown = sorted({n for n in names if n not in ALLOWED_PARAMETERS})
    if unknown:
        listed = ", ".join(f":{n}" for n in unknown)
        raise QueryRefused(f"the query uses {listed}; only {_ALLOWED_TEXT} are allowed")
    if "user_id" not in names:
        raise QueryRefused("the query must use :user_id so each person gets their own value")


def check_query_text(sql: str) -> str:
    """The normalised SQL (stripped, one trailing ``;`` dropped), or QueryRefused saying why."""
    text = sql.strip()
    if not text:
        raise QueryRefused("the query is empty")
    if len(text) > MAX_LENGTH:
        raise QueryRefused(f"the query is {len(text)} characters long; the limit is {MAX_LENGTH}")
    if "\x00" in text:
        raise QueryRefused("the query contains a NUL character")
    tokens = _drop_final_semicolon(tokenize(text))
    _check_first_word(tokens)
    _check_parameters(tokens)
    return "".join(t.text for t in tokens).strip()


def rewrite(
    sql: str,
    parameter: Callable[[str], str],
    other: Callable[[str], str] = lambda text: text,
) -> str:
    """``sql`` with each ``:name`` replaced by ``parameter(name)`` and every other token's
    text by ``other(text)`` (e.g. to double ``%`` for a driver's paramstyle).

    The tokenizer finds the parameters, so text inside literals and comments is left alone.
    """
    out: list[str] = []
    for token in tokenize(sql):
        if token.kind is Kind.PARAMETER:
            out.append(parameter(token.name))
        else:
            out.append(other(token.text))
    return "".join(out)
