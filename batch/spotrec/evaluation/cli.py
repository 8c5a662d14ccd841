"""`spotrec eval --out DIR`: evaluate a build's models and write DIR/report/report.md."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "evaluate every model of a build and write DIR/report (markdown, HTML, JSON, plots)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR",
        help="the build directory (as given to `spotrec build --out`)",
    )
    parser.add_argument("--no-html", action="store_true", help="skip report.html")
    holdout = parser.add_mutually_exclusive_group()
    holdout.add_argument(
        "--holdout",
        dest="holdout",
        action="store_true",
        default=None,
        help="require held-out tracks and report them (default: when present)",
    )
    holdout.add_argument(
        "--no-holdout", dest="holdout", action="store_false", help="leave the held-out table out"
    )
    parser.add_argument(
        "--sweep",
        type=Path,
        metavar="CSV",
        help="tuning results (model, setting, genre_precision, coverage) to add "
        "to the trade-off plot; default DIR/sweep.csv when present",
    )


def run(args: argparse.Namespace) -> int:
    from spotrec.errors import SpotrecError
    from spotrec.evaluation.report import summary_table, write_report

    if not args.out.is_dir():
        raise SpotrecError(f"{args.out} is not a directory; run `spotrec build --out DIR` first")
    if args.sweep is not None and not args.sweep.is_file():
        raise SpotrecError(f"sweep table {args.sweep} does not exist")
    report = write_report(args.out, holdout=args.holdout, html=not args.no_html, sweep=args.sweep)
    print(summary_table(report))
    print(f"\nreport: {report}")
    return 0
