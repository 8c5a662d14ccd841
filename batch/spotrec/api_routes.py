"""template.yaml's API routes, generated from the route table (spotrec_serving.routes).

    python -m spotrec.api_routes           # rewrite each function's Events block in place
    python -m spotrec.api_routes --check   # exit 1 if template.yaml disagrees with the table

Only the lines between the BEGIN/END markers are rewritten; everything else in the template
(comments included) is left as it is. tests/test_template.py checks the two agree.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from spotrec_serving.routes import ROUTES, routes_of

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"
BEGIN = "        # BEGIN routes generated from lambda/spotrec_serving/routes.py"
END = "        # END generated routes"
HINT = "        # (python -m spotrec.api_routes rewrites this block; do not edit by hand)"
FUNCTIONS = tuple(dict.fromkeys(route.function for route in ROUTES))


def begin_marker(function: str) -> str:
    return f"{BEGIN} ({function})"


def events_block(function: str) -> str:
    lines = [begin_marker(function), HINT]
    for route in routes_of(function):
        lines += [
            f"        {route.name}:",
            "          Type: Api",
            "          Properties:",
            "            RestApiId: !Ref Api",
            f"            Path: {route.path}",
            f"            Method: {route.method}",
        ]
    lines.append(END)
    return "\n".join(lines) + "\n"


def rewrite(text: str) -> str:
    """``text`` with each function's block between the markers replaced by its routes."""
    for function in FUNCTIONS:
        begin = begin_marker(function)
        start = text.find(begin)
        end = text.find(END, start)
        if start < 0 or end < start:
            raise ValueError(f"template.yaml lacks the markers {begin.strip()!r} / {END.strip()!r}")
        end = text.index("\n", end) + 1
        text = text[:start] + events_block(function) + text[end:]
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--template", type=Path, default=TEMPLATE)
    parser.add_argument("--check", action="store_true", help="only check; exit 1 on a mismatch")
    args = parser.parse_args(argv)
    text = args.template.read_text()
    wanted = rewrite(text)
    if args.check:
        if wanted != text:
            print(f"{args.template}: API routes differ from the route table", file=sys.stderr)
            return 1
        return 0
    if wanted != text:
        args.template.write_text(wanted)
        print(f"{args.template}: API routes rewritten from the route table")
    return 0


if __name__ == "__main__":
    sys.exit(main())
