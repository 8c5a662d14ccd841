"""Size of the built Lambda package (`sam build`), measured the way the target is stated:
bytes *beyond what the python3.11 runtime already has*. The runtime ships boto3 and its
dependencies; aws-xray-sdk (powertools' tracer extra) pulls copies of them into the package."""

from __future__ import annotations

from pathlib import Path

# Top-level names (packages, modules, dist-info prefixes) the Lambda python3.11 runtime provides.
RUNTIME_PROVIDED = frozenset(
    {
        "boto3",
        "botocore",
        "s3transfer",
        "jmespath",
        "dateutil",
        "python_dateutil",
        "urllib3",
        "six.py",
        "six",
    }
)
SIZE_TARGET_BYTES = 5 * 1024 * 1024


def package_sizes(function_dir: Path) -> tuple[int, int]:
    """(all bytes, bytes beyond the runtime) of the files under a built function directory."""
    total = beyond = 0
    for path in Path(function_dir).rglob("*"):
        if not path.is_file():
            continue
        size = path.stat().st_size
        total += size
        top = path.relative_to(function_dir).parts[0].split("-")[0]
        if top not in RUNTIME_PROVIDED:
            beyond += size
    return total, beyond
