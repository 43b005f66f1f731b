"""Clients as the outputs create them: trimmed endpoint data, same endpoints as botocore's own."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from flb_fast.outputs.aws import client as client_module
from flb_fast.outputs.aws.client import OPERATIONS, SERVICES, create_client, trimmed_model


def options(region: str, **overrides: object) -> SimpleNamespace:
    base = dict(
        profile=None,
        region=region,
        role_arn=None,
        extra_user_agent=None,
        net_connect_timeout=10.0,
        net_io_timeout=0.0,
        net_keepalive=True,
        net_keepalive_idle_timeout=30.0,
        endpoint=None,
        port=None,
        tls=True,
        tls_verify=True,
        tls_ca_file=None,
        tls_ca_path=None,
    )
    return SimpleNamespace(**{**base, **overrides})


@pytest.mark.parametrize("service", sorted(SERVICES))
@pytest.mark.parametrize("region", ["us-east-1", "eu-west-3", "cn-north-1", "us-gov-west-1"])
def test_endpoints_and_signing_are_those_of_the_full_endpoint_data(service: str, region: str, monkeypatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    ours = create_client(service, options(region), 1)
    monkeypatch.setattr(client_module, "_use_trimmed_endpoints", lambda session: None)
    reference = create_client(service, options(region), 1)
    assert ours.meta.endpoint_url == reference.meta.endpoint_url
    assert ours._request_signer._signing_name == reference._request_signer._signing_name
    assert ours._request_signer._region_name == reference._request_signer._region_name


def test_aws_endpoint_url_in_the_environment_is_honoured(monkeypatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    assert create_client("logs", options("us-east-1"), 1).meta.endpoint_url == "http://127.0.0.1:4566"


def test_the_endpoint_option_wins(monkeypatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    client = create_client("logs", options("us-east-1", endpoint="127.0.0.1", port=5000, tls=False), 1)
    assert client.meta.endpoint_url == "http://127.0.0.1:5000"


@pytest.mark.parametrize("service", sorted(OPERATIONS))
def test_clients_offer_exactly_the_operations_the_outputs_call(service: str) -> None:
    client = create_client(service, options("us-east-1"), 1)
    assert set(client.meta.service_model.operation_names) == OPERATIONS[service]


def test_a_trimmed_model_keeps_every_shape_its_operations_reach() -> None:
    document = json.dumps(
        {
            "version": "2.0",
            "metadata": {"protocol": "json"},
            "documentation": "long text",
            "operations": {
                "Put": {"input": {"shape": "PutRequest"}, "errors": [{"shape": "Oops"}]},
                "Other": {"input": {"shape": "Unused"}},
            },
            "shapes": {
                "PutRequest": {"type": "structure", "members": {"Items": {"shape": "Items"}}},
                "Items": {"type": "list", "member": {"shape": "Item"}},
                "Item": {"type": "map", "key": {"shape": "Text"}, "value": {"shape": "Text"}},
                "Text": {"type": "string"},
                "Oops": {"type": "structure", "members": {}},
                "Unused": {"type": "string"},
            },
        }
    ).encode()
    model = trimmed_model(document, frozenset({"Put"}))
    assert list(model["operations"]) == ["Put"]
    assert set(model["shapes"]) == {"PutRequest", "Items", "Item", "Text", "Oops"}
    assert "documentation" not in model and model["metadata"] == {"protocol": "json"}
