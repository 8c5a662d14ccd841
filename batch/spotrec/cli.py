"""The `spotrec` command. Each subcommand lives in its own module, which exposes

    HELP: str
    add_arguments(parser: argparse.ArgumentParser) -> None
    run(args: argparse.Namespace) -> int

Modules are imported only when their subcommand runs or help is built, and keep heavy imports
(pandas, torch, faiss) inside ``run`` so ``spotrec --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from spotrec.errors import SpotrecError

COMMANDS = {
    "build": "spotrec.build",
    "eval": "spotrec.evaluation.cli",
    "serve": "spotrec.server",
    "demo": "spotrec.demo",
    "publish": "spotrec.publish",
}
DATA_COMMANDS = {
    "download": "spotrec.data.download",
    "synth": "spotrec.data.synth",
    "synth-listening": "spotrec.data.synth_listening",
    "stats": "spotrec.data.stats",
    "holdout": "spotrec.holdout",
}
EVENTS_COMMANDS = {"export": "spotrec.events_export"}  # docs/events.md


def _register(subparsers: argparse._SubParsersAction, name: str, module_name: str) -> None:
    module = importlib.import_module(module_name)
    parser = subparsers.add_parser(name, help=module.HELP, description=module.HELP)
    module.add_arguments(parser)
    parser.set_defaults(_run=module.run)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spotrec",
        description="Music recommendations for the Spotify Tracks catalogue: build the "
        "neighbour lists, evaluate them, serve them, publish them to AWS.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        _register(sub, name, module_name)
    data = sub.add_parser("data", help="get or make a catalogue: download, synth, stats")
    data_sub = data.add_subparsers(dest="data_command", required=True, metavar="DATA_COMMAND")
    for name, module_name in DATA_COMMANDS.items():
        _register(data_sub, name, module_name)
    events = sub.add_parser("events", help="listening events collected by the API: export")
    events_sub = events.add_subparsers(
        dest="events_command", required=True, metavar="EVENTS_COMMAND"
    )
    for name, module_name in EVENTS_COMMANDS.items():
        _register(events_sub, name, module_name)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    try:
        return int(args._run(args) or 0)
    except SpotrecError as exc:
        print(f"spotrec: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
