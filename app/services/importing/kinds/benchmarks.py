"""Benchmarks: metric_key*, asset_type, deal_type, cohort*, value_numeric, value_text, source*,
effective_date* (SPEC §10, §11).

Each cell is read by the rules of ``app/domain/benchmarks.py`` (see its docstring). Rules
(where SPEC.md is silent, chosen here):
- ``metric_key`` is lower-cased (letters, digits and ``_``, at most 80 characters);
  ``asset_type`` and ``deal_type`` are lower-cased, at most 40 characters, and empty means
  the row applies to any asset (deal) type;
- ``cohort`` is industry_avg, top_quartile or internal_avg, any case;
- a row gives ``value_numeric`` (a number with at most 4 decimals), ``value_text`` (at most
  200 characters) or both; neither is an error on ``value_numeric``;
- ``source`` is required, at most 200 characters;
- ``effective_date`` is at most 365 days after the day of the import (``--as-of``);
- one row per (metric, asset type, deal type, cohort, effective date): the same five twice in
  the file, or already in the database, is an error (imports add, they never overwrite; a new
  figure is a row with a later effective date);
- only admins, brokers and managers import benchmarks (on a server the grant of migration
  0012 refuses others too); anyone else is refused the whole file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from app.db.models import Benchmark
from app.domain import benchmarks as rules
from app.domain import csvrules as cr
from app.services.analytics.benchmarks import check_writer
from app.services.audit import WRITE_BLOCK
from app.services.importing.spec import CHUNK, Column, Identity, ImportContext, ImportKind, Row

_Key = tuple[str, str | None, str | None, str, dt.date]


def _key(data: dict[str, Any]) -> _Key:
    return (
        data["metric_key"],
        data["asset_type"],
        data["deal_type"],
        data["cohort"],
        data["effective_date"],
    )


def describe(data: dict[str, Any]) -> str:
    """ "avg_cycle_days (residential, any deal type, industry_avg) effective 2025-01-15"."""
    asset = data["asset_type"] or "any asset type"
    deal = data["deal_type"] or "any deal type"
    return (
        f"{data['metric_key']} ({asset}, {deal}, {data['cohort']}) effective "
        f"{data['effective_date'].isoformat()}"
    )


class BenchmarksImport(ImportKind):
    METRIC_KEY = Column("metric_key", rules.parse_metric_key, required=True)
    ASSET_TYPE = Column("asset_type", rules.parse_dimension)
    DEAL_TYPE = Column("deal_type", rules.parse_dimension)
    COHORT = Column("cohort", rules.parse_cohort, required=True)
    VALUE_NUMERIC = Column("value_numeric", rules.parse_value_numeric)
    VALUE_TEXT = Column("value_text", rules.parse_value_text)
    SOURCE = Column("source", rules.parse_source, required=True)
    EFFECTIVE_DATE = Column("effective_date", cr.iso_date, required=True)

    name = "benchmarks"
    noun = "benchmark"
    columns = (
        METRIC_KEY, ASSET_TYPE, DEAL_TYPE, COHORT, VALUE_NUMERIC, VALUE_TEXT, SOURCE,
        EFFECTIVE_DATE,
    )  # fmt: skip

    def prepare(self, ctx: ImportContext, rows: Sequence[Row]) -> None:
        check_writer(ctx.actor, "import benchmarks")

    def check_row(self, row: Row, ctx: ImportContext) -> None:
        effective = row.get(self.EFFECTIVE_DATE)
        if effective is not None:
            problem = rules.effective_date_problem(effective, ctx.as_of)
            if problem is not None:
                ctx.error(row, self.EFFECTIVE_DATE, problem)
        numeric, text = row.get(self.VALUE_NUMERIC), row.get(self.VALUE_TEXT)
        if row.ok(self.VALUE_NUMERIC, self.VALUE_TEXT):
            problem = rules.value_problem(numeric, text)
            if problem is not None:
                ctx.error(row, self.VALUE_NUMERIC, problem)
        if ctx.is_bad(row):
            return
        row.data = {
            "metric_key": row[self.METRIC_KEY],
            "asset_type": row.get(self.ASSET_TYPE),
            "deal_type": row.get(self.DEAL_TYPE),
            "cohort": row[self.COHORT],
            "value_numeric": numeric,
            "value_text": text,
            "source": row[self.SOURCE],
            "effective_date": row[self.EFFECTIVE_DATE],
        }

    def identity(self, row: Row) -> Identity | None:
        if not row.data:
            return None
        return Identity(_key(row.data), self.EFFECTIVE_DATE.name, describe(row.data))

    def check_existing(self, ctx: ImportContext, rows: Sequence[Row]) -> None:
        wanted: dict[_Key, Row] = {_key(r.data): r for r in rows if r.data}
        metrics = sorted({key[0] for key in wanted})
        for start in range(0, len(metrics), CHUNK):
            stmt = sa.select(
                Benchmark.metric_key,
                Benchmark.asset_type,
                Benchmark.deal_type,
                Benchmark.cohort,
                Benchmark.effective_date,
            ).where(sa.func.lower(Benchmark.metric_key).in_(metrics[start : start + CHUNK]))
            for metric, asset, deal, cohort, effective in ctx.session.execute(stmt):
                key: _Key = (
                    str(metric).lower(),
                    asset.lower() if asset is not None else None,
                    deal.lower() if deal is not None else None,
                    str(cohort),
                    effective,
                )
                row = wanted.pop(key, None)
                if row is None:
                    continue
                ctx.error(
                    row,
                    self.EFFECTIVE_DATE,
                    f"{describe(row.data)} is already in the database "
                    "(imports add, they never overwrite)",
                )

    def write(self, ctx: ImportContext, rows: Sequence[Row]) -> int:
        if not rows:
            return 0
        now = dt.datetime.now(dt.UTC)
        batch = [{**row.data, "created_at": now} for row in rows]
        table: sa.Table = Benchmark.__table__  # type: ignore[assignment]
        connection = ctx.session.connection()
        for start in range(0, len(batch), WRITE_BLOCK):
            connection.execute(table.insert(), batch[start : start + WRITE_BLOCK])
        return len(batch)
