"""`spotrec publish`: copy a build to S3 and DynamoDB as an atomic release, or roll back.

Uses boto3's standard configuration: credentials and region from the environment or profile
(region defaults to us-east-1), and AWS_ENDPOINT_URL to point at a local moto server.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from pathlib import Path

HELP = "publish a build to S3 + DynamoDB as an atomic release (or --rollback)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from", dest="from_dir", type=Path, help="the build directory (spotrec build --out)"
    )
    parser.add_argument(
        "--bucket",
        default=os.environ.get("SPOTREC_BUCKET"),
        help="S3 bucket for runs/<run_id>/ (default: $SPOTREC_BUCKET)",
    )
    parser.add_argument(
        "--table",
        default=os.environ.get("SPOTREC_TABLE"),
        help="DynamoDB table (default: $SPOTREC_TABLE)",
    )
    parser.add_argument(
        "--rollback",
        action="store_true",
        help="move CURRENT back to the previous kept run instead of publishing",
    )
    parser.add_argument(
        "--create-missing",
        action="store_true",
        help="create the bucket and table from template.yaml when they do not exist",
    )
    parser.add_argument(
        "--keep", type=int, default=3, help="runs kept for rollback, current included (3)"
    )
    parser.add_argument(
        "--template", type=Path, default=None, help="template.yaml (default: the repo's)"
    )
    parser.add_argument(
        "--workers", type=int, default=4, help="concurrent BatchWriteItem calls (4)"
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="write every item; by default only the parts that differ from the current "
        "release are written and the rest carried forward (docs/aws.md)",
    )
    parser.add_argument(
        "--renew",
        action="store_true",
        help="rewrite the already-current run with a fresh TTL (its items expire after 90 days)",
    )


def run(args: argparse.Namespace) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    if not getattr(args, "verbose", False):  # botocore logs every endpoint/credential lookup
        logging.getLogger("botocore").setLevel(logging.WARNING)

    from spotrec.errors import SpotrecError

    try:
        return _run(args)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise SpotrecError(
            f"AWS call failed: {error.get('Code')}: {error.get('Message')} ({exc.operation_name})"
        ) from exc
    except BotoCoreError as exc:
        raise SpotrecError(f"AWS call failed: {exc}") from exc


def _run(args: argparse.Namespace) -> int:
    from spotrec.errors import SpotrecError
    from spotrec.writers import aws

    if not args.table:
        raise SpotrecError("publish needs --table (or SPOTREC_TABLE)")
    if args.workers < 1:
        raise SpotrecError("--workers must be at least 1")
    if args.rollback:
        result = aws.rollback(aws.Target(table=args.table, bucket=None, workers=args.workers))
    else:
        if args.from_dir is None:
            raise SpotrecError("publish needs --from DIR (a spotrec build output)")
        target = aws.Target(
            table=args.table,
            bucket=args.bucket,
            workers=args.workers,
            incremental=not getattr(args, "full", False),
        )
        result = aws.publish(
            args.from_dir,
            target,
            keep=args.keep,
            create_missing=args.create_missing,
            template_path=args.template,
            renew=args.renew,
        )
    print(json.dumps(result.__dict__, default=str))
    return 0
