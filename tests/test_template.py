"""template.yaml: lint clean, valid SAM, buildable offline, and consistent with the code."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from aws_support import DUMMY_CREDENTIALS, REGION, TEMPLATE, create_template_table
from spotrec.lambda_package import SIZE_TARGET_BYTES, package_sizes
from spotrec.writers import stack_template

REPO_ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
READ_ONLY_DYNAMODB = {"dynamodb:GetItem", "dynamodb:BatchGetItem"}


@pytest.fixture(scope="module")
def template() -> dict:
    return stack_template.load_template(TEMPLATE)


def tool(name: str) -> str:
    path = BIN / name if (BIN / name).exists() else shutil.which(name)
    if not path:
        pytest.skip(f"{name} is not installed (pip install '.[dev]')")
    return str(path)


def run_tool(*argv: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess:
    env = {
        "PATH": f"{BIN}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(Path.home()),
        "SAM_CLI_TELEMETRY": "0",
        "AWS_DEFAULT_REGION": REGION,
    }
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env=env, timeout=600)


def test_cfn_lint_reports_nothing():
    result = run_tool(tool("cfn-lint"), "template.yaml")
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_sam_validate_lint_passes():
    result = run_tool(tool("sam"), "validate", "--lint", "--template", "template.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_sam_build_passes_and_the_package_stays_small(tmp_path):
    build_dir = tmp_path / "aws-sam-build"
    result = run_tool(
        tool("sam"), "build", "--template", "template.yaml", "--build-dir", str(build_dir)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    function_dir = build_dir / "ApiFunction"
    assert (function_dir / "app.py").is_file()
    assert (function_dir / "spotrec_serving" / "dynamodb_store.py").is_file()
    # The target is 5 MB beyond what the python3.11 runtime already has (boto3 and its deps).
    _, beyond = package_sizes(function_dir)
    assert beyond < SIZE_TARGET_BYTES, f"Lambda package is {beyond / 1e6:.1f} MB beyond runtime"
    for heavy in ("numpy", "pandas", "pyarrow", "torch", "faiss", "boto3"):
        assert not (function_dir / heavy).exists(), f"{heavy} must not be bundled"


def test_template_routes_are_generated_from_the_route_table(template):
    from spotrec import api_routes
    from spotrec_serving.routes import ROUTES

    assert api_routes.rewrite(TEMPLATE.read_text()) == TEMPLATE.read_text(), (
        "template.yaml's routes differ from the route table: run python -m spotrec.api_routes"
    )
    declared = {
        (function, name, e["Properties"]["Method"], e["Properties"]["Path"])
        for function in ("ApiFunction", "EventsFunction")
        for name, e in template["Resources"][function]["Properties"]["Events"].items()
        if e["Type"] == "Api"
    }
    assert declared == {(r.function, r.name, r.method, r.path) for r in ROUTES}
    assert len(declared) >= 8


def test_the_dynamodb_time_budget_fits_the_function_timeout(template):
    from spotrec_serving import config

    timeout = template["Globals"]["Function"]["Timeout"]
    assert timeout == config.FUNCTION_TIMEOUT_SECONDS
    # Room to spare: the worst DynamoDB wait (then a 503) ends within 80% of the timeout, so
    # API Gateway never has to answer 502 for us.
    assert config.worst_case_seconds() <= 0.8 * timeout


def test_the_function_can_only_read_the_table(template):
    props = template["Resources"]["ApiFunction"]["Properties"]
    actions: set[str] = set()
    for policy in props["Policies"]:
        assert set(policy) == {"Statement"}, "only inline statements (no broad policy templates)"
        for statement in policy["Statement"]:
            assert statement["Effect"] == "Allow"
            # events: the summary table is read (never written) for ?session_id=
            assert statement["Resource"] in (
                {"Fn::GetAtt": ["Table", "Arn"]},
                {"Fn::GetAtt": ["EventsTable", "Arn"]},
            )
            listed = statement["Action"]
            actions |= {listed} if isinstance(listed, str) else set(listed)
    assert actions and actions <= READ_ONLY_DYNAMODB


def test_the_function_switches_powertools_on_by_environment(template):
    props = template["Resources"]["ApiFunction"]["Properties"]
    env = props["Environment"]["Variables"]
    for name in (
        "SPOTREC_TABLE",
        "SPOTREC_CURRENT_TTL_SECONDS",
        "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_METRICS_NAMESPACE",
        "POWERTOOLS_LOG_LEVEL",
    ):
        assert name in env
    assert template["Globals"]["Function"]["Runtime"] == "python3.11"
    assert template["Globals"]["Function"]["Tracing"] == "Active"
    assert props["Handler"] == "app.lambda_handler" and props["CodeUri"] == "lambda/"


def test_the_tests_moto_table_is_the_template_table(template, monkeypatch):
    for name, value in DUMMY_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    props = template["Resources"]["Table"]["Properties"]
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_template_table(client, "t")
        table = client.describe_table(TableName="t")["Table"]
        ttl = client.describe_time_to_live(TableName="t")["TimeToLiveDescription"]
        backups = client.describe_continuous_backups(TableName="t")["ContinuousBackupsDescription"]
    assert table["KeySchema"] == props["KeySchema"]
    assert sorted(table["AttributeDefinitions"], key=str) == sorted(
        props["AttributeDefinitions"], key=str
    )
    assert [
        (i["IndexName"], i["KeySchema"], i["Projection"]) for i in table["GlobalSecondaryIndexes"]
    ] == [
        (i["IndexName"], i["KeySchema"], i["Projection"]) for i in props["GlobalSecondaryIndexes"]
    ]
    assert props["BillingMode"] == table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert ttl["AttributeName"] == props["TimeToLiveSpecification"]["AttributeName"]
    pitr = backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"]
    assert pitr == "ENABLED"


def test_the_bucket_is_encrypted_private_and_versioned(template):
    props = template["Resources"]["Bucket"]["Properties"]
    rule = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert set(props["PublicAccessBlockConfiguration"].values()) == {True}
    assert props["VersioningConfiguration"]["Status"] == "Enabled"


def test_the_retrain_runs_train_then_sharded_neighbours_then_publish(template):
    machine = template["Resources"]["RetrainStateMachine"]["Properties"]
    states = machine["Definition"]["States"]
    order, name = [], machine["Definition"]["StartAt"]
    while name:
        order.append(name)
        name = states[name].get("Next")
    assert order == ["ExportEvents", "Train", "Neighbours", "Publish"]
    for state in states.values():  # .sync: each step waits for its job (all array children)
        assert state["Resource"]["Fn::Sub"].endswith(":states:::batch:submitJob.sync")
    assert states["Neighbours"]["Parameters"]["ArrayProperties"]["Size"] == {
        "Ref": "NeighbourShards"
    }
    assert [s["Parameters"]["ContainerOverrides"]["Command"] for s in states.values()] == [
        ["retrain", "export-events"],
        ["retrain", "train"],
        ["retrain", "neighbours"],
        ["retrain", "publish"],
    ]
    schedule = machine["Events"]["Weekly"]
    assert schedule["Type"] == "Schedule" and schedule["Properties"]["Schedule"] == {
        "Ref": "RetrainSchedule"
    }
    assert template["Parameters"]["RetrainSchedule"]["Default"] == "rate(7 days)"


def test_the_batch_job_role_cannot_delete_or_scan(template):
    role = template["Resources"]["BatchJobRole"]["Properties"]
    actions = {
        action
        for policy in role["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
        for action in statement["Action"]
        if isinstance(statement["Action"], list)
    } | {
        statement["Action"]
        for policy in role["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
        if isinstance(statement["Action"], str)
    }
    assert not any(
        a.endswith(("*", "DeleteItem", "Scan", "DeleteTable", "DeleteObject")) for a in actions
    )


def test_outputs_name_the_api_table_and_bucket(template):
    assert {"ApiUrl", "TableName", "BucketName"} <= set(template["Outputs"])


# events -----------------------------------------------------------------------------------------


def test_the_events_function_has_its_own_least_privilege_role(template):
    props = template["Resources"]["EventsFunction"]["Properties"]
    assert props["Handler"] == "events_app.lambda_handler"
    grants: dict[str, set[str]] = {}
    for policy in props["Policies"]:
        for statement in policy["Statement"]:
            resource = statement["Resource"]["Fn::GetAtt"][0]
            grants.setdefault(resource, set()).update(statement["Action"])
    assert grants == {
        "EventsTable": {"dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:UpdateItem"},
        "Table": {"dynamodb:GetItem", "dynamodb:BatchGetItem"},
    }
    (route,) = props["Events"].values()
    assert (route["Properties"]["Path"], route["Properties"]["Method"]) == ("/v1/events", "POST")


def test_the_events_table_is_on_demand_with_ttl_and_recovery(template):
    props = template["Resources"]["EventsTable"]["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert template["Parameters"]["EventsTtlDays"]["Default"] == 180
    settings = template["Resources"]["Api"]["Properties"]["MethodSettings"]
    assert any(s["ResourcePath"] == "/~1v1~1events" and s["HttpMethod"] == "POST" for s in settings)
    assert "POST" in template["Resources"]["Api"]["Properties"]["Cors"]["AllowMethods"]
