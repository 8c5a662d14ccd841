"""Read template.yaml's own resource definitions, so the publisher's ``--create-missing`` and
the tests create exactly the table the stack declares (code and stack cannot drift).

CloudFormation short tags (!Ref, !Sub, !GetAtt, ...) are not YAML that PyYAML knows; a
SafeLoader subclass turns each into the long form ``{"Ref": ...}`` / ``{"Fn::Sub": ...}``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from spotrec.errors import SpotrecError

TABLE_RESOURCE = "Table"
BUCKET_RESOURCE = "Bucket"


def default_template_path() -> Path:
    """template.yaml at the repository root (this file is batch/spotrec/writers/...)."""
    return Path(__file__).resolve().parents[3] / "template.yaml"


def _construct_intrinsic(loader: Any, tag_suffix: str, node: Any) -> Any:
    import yaml

    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":  # !GetAtt Table.Arn is short for ["Table", "Arn"]
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


def load_template(path: Path | None = None) -> dict[str, Any]:
    """template.yaml as plain data. PyYAML is imported here: only --create-missing needs it."""
    try:
        import yaml
    except ImportError as exc:
        raise SpotrecError("reading template.yaml needs PyYAML: pip install pyyaml") from exc

    class CloudFormationLoader(yaml.SafeLoader):
        """SafeLoader that also accepts CloudFormation's short-form intrinsic function tags."""

    CloudFormationLoader.add_multi_constructor("!", _construct_intrinsic)
    path = path or default_template_path()
    if not path.is_file():
        raise SpotrecError(f"template not found: {path} (pass --template PATH)")
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=CloudFormationLoader)


def resource_properties(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    try:
        return template["Resources"][logical_id]["Properties"]
    except KeyError as exc:
        raise SpotrecError(f"template.yaml has no properties for resource {logical_id}") from exc


def create_table_kwargs(template: dict[str, Any], table_name: str) -> dict[str, Any]:
    """The CreateTable request for the template's table (TTL and PITR are separate calls)."""
    props = resource_properties(template, TABLE_RESOURCE)
    kwargs: dict[str, Any] = {
        "TableName": table_name,
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if props.get("GlobalSecondaryIndexes"):
        kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    if props.get("SSESpecification", {}).get("SSEEnabled"):
        kwargs["SSESpecification"] = {"Enabled": True}
    return kwargs


def ttl_attribute(template: dict[str, Any]) -> str | None:
    spec = resource_properties(template, TABLE_RESOURCE).get("TimeToLiveSpecification") or {}
    return spec.get("AttributeName") if spec.get("Enabled") else None


def point_in_time_recovery(template: dict[str, Any]) -> bool:
    props = resource_properties(template, TABLE_RESOURCE)
    spec = props.get("PointInTimeRecoverySpecification") or {}
    return bool(spec.get("PointInTimeRecoveryEnabled"))


def gsi_name(template: dict[str, Any]) -> str:
    """The one GSI the publisher uses to count/enumerate a run's items."""
    indexes = resource_properties(template, TABLE_RESOURCE).get("GlobalSecondaryIndexes") or []
    if len(indexes) != 1:
        raise SpotrecError("template.yaml's Table must declare exactly one GSI (run_part-index)")
    return indexes[0]["IndexName"]


def create_table(client: Any, template: dict[str, Any], table_name: str) -> None:
    """Create the table as the template declares it and wait until it is ACTIVE."""
    client.create_table(**create_table_kwargs(template, table_name))
    client.get_waiter("table_exists").wait(
        TableName=table_name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    attribute = ttl_attribute(template)
    if attribute:
        client.update_time_to_live(
            TableName=table_name,
            TimeToLiveSpecification={"AttributeName": attribute, "Enabled": True},
        )
    if point_in_time_recovery(template):
        client.update_continuous_backups(
            TableName=table_name,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )


def create_bucket(client: Any, template: dict[str, Any], bucket: str, region: str) -> None:
    """Create the bucket with the template's encryption, public-access block and versioning."""
    props = resource_properties(template, BUCKET_RESOURCE)
    kwargs: dict[str, Any] = {"Bucket": bucket}
    if region != "us-east-1":  # us-east-1 rejects an explicit LocationConstraint
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    client.create_bucket(**kwargs)
    if "BucketEncryption" in props:
        client.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={"Rules": _encryption_rules(props)},
        )
    if "PublicAccessBlockConfiguration" in props:
        client.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"],
        )
    if "VersioningConfiguration" in props:
        client.put_bucket_versioning(
            Bucket=bucket,
            VersioningConfiguration={"Status": props["VersioningConfiguration"]["Status"]},
        )


def _encryption_rules(props: dict[str, Any]) -> list[dict[str, Any]]:
    rules = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    return [
        {"ApplyServerSideEncryptionByDefault": r["ServerSideEncryptionByDefault"]} for r in rules
    ]
