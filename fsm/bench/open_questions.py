"""The seed's open questions, answered with the random market (issue 16 item 3).

1. Hedge trigger ratio: hedge the first fill however small (``hedge_trigger_fill_ratio``
   = 0, the default) or only once 30% of the leg has filled?
2. Adaptive hedge: once a leg fills, keep the other leg's quote as a tight limit for at
   most the planner's tau* before taking (``plan_hedge = adaptive``, told the regime's
   volatility), or take at once (``market``, the default)?

Each is this engine's maker default, strategy (c) of the economics table, with that one
setting changed, run over the same regimes (``fsm.bench.regimes``, binanceusdm +
hyperliquid) and seeds through the same harness (``fsm.bench.economics_table``), so a
difference between rows is the setting's. Run ``python -m fsm.bench.open_questions``
(1,000 seeds per regime; ``-n`` for fewer). The README's "Open questions" section keeps
a run's table and the defaults it supports.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence

import attrs
from loguru import logger

from fsm.bench import economics_table, regimes
from fsm.bench.economics_table import Row

__all__ = ["VARIANTS", "format_rows", "main", "run"]

VARIANTS = ("engine_maker", "trigger_30", "adaptive_hedge")
SHOWN = {"engine_maker": "any fill, market hedge (defaults)",
         "trigger_30": "30% filled, market hedge", "adaptive_hedge": "any fill, adaptive hedge"}


def run(seeds: range) -> list[Row]:
    return economics_table.run(regimes.regimes(), seeds, strategies=VARIANTS)


def format_rows(rows: Sequence[Row]) -> str:
    from fsm.bench.report import table  # the bench's one table layout

    def cell(value: float | None, spec: str) -> str:
        return "-" if value is None else format(value, spec)

    return table(
        ["regime", "hedge trigger, hedge", "cost p50", "p95", "mean", "fill rate",
         "unhedged p50", "p99", "rolled back"],
        [[r.regime, SHOWN[r.strategy], cell(r.summary.cost_p50_bps, ".2f"),
          cell(r.summary.cost_p95_bps, ".2f"), cell(r.summary.cost_mean_bps, ".2f"),
          f"{r.summary.fill_rate:.1%}",
          cell(r.summary.unhedged_p50, ",.0f"), cell(r.summary.unhedged_p99, ",.0f"),
          f"{r.summary.rolled_back_share:.1%}"] for r in rows])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fsm.bench.open_questions",
        description="The seed's open questions (hedge trigger ratio, adaptive hedge) as a "
        "table of cost and exposure across volatility regimes, on seeded random markets.")
    parser.add_argument("-n", "--entries", type=int, default=1000,
                        help="seeded entries per regime and variant (seeds 0 to n-1); "
                        "default 1000")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON instead")
    args = parser.parse_args(argv)
    if args.entries < 1:
        parser.error(f"--entries: expected at least 1, got {args.entries}")
    logger.disable("fsm")
    logger.disable("venues")
    began = time.process_time()
    rows = run(range(args.entries))
    if args.json:
        print(json.dumps([attrs.asdict(row) for row in rows], indent=2))
        return 0
    print(f"open questions: {args.entries} seeded entries per regime and variant, "
          "binanceusdm+hyperliquid, virtual time; all-in cost in bp of one leg's notional, "
          "unhedged notional-seconds in USDT x s (venue truth)")
    print(format_rows(rows))
    print(f"{time.process_time() - began:.0f} s CPU", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
