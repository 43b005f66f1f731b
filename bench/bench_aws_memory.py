"""What the AWS outputs' use of botocore costs in resident memory, import by import.

    python -m bench.bench_aws_memory [--service firehose] [--json]

Two fresh interpreters import what every config loads (flb_fast's engine, the AWS output
modules, msgspec, uvloop), then what an AWS output adds at start, one step at a time:

- ``botocore client``: the standard library's HTTP client, urllib3, dateutil, botocore's
  credential chain and signer (``botocore.credentials``, ``botocore.auth``), the rest of
  ``botocore.session`` (client, handlers, serialisers, endpoint rules), a session and its
  credentials, the output's client (``outputs/aws/client.py create_client``), a TLS context
  with the system CA store. What an output calling its service through botocore loads (s3).
- ``calls on the loop, keys in the environment``: what a JSON-protocol output (cloudwatch_logs,
  kinesis_firehose, kinesis_streams) loads when the keys are in the environment
  (``outputs/aws/http.py open_json_api``: the keys read as botocore's first provider reads them,
  ``outputs/aws/credentials.py environment_credentials``; requests signed as botocore's
  ``SigV4Auth`` signs them, ``outputs/aws/sigv4.py``; botocore's User-Agent,
  ``outputs/aws/useragent.py``; the calls' TLS context), then, for comparison, what importing
  botocore's chain and signer would add.
- ``calls on the loop, botocore's chain``: the same output when the keys come from anywhere else
  (here a shared credentials file): botocore's credential chain behind ``ChainSession``, no
  botocore session or client, step by step in the order ``import botocore.credentials`` brings
  them in: the chain cannot be had without ``botocore.config``, which imports
  ``botocore.endpoint`` and with it urllib3 (and urllib3 ``importlib.metadata``).

- ``IRSA web identity``: the same chain as EKS's IAM roles for service accounts drive it (a
  role and a token file, no keys): botocore's web identity provider makes an STS client from a
  botocore session (``ChainSession.create_client``) and calls AssumeRoleWithWebIdentity (moto on
  127.0.0.1 answers).

Each step's figure is the growth of VmRSS after it (``gc.collect()`` first) and the modules it
added; the options are the output's own table bound to a few properties. Modules an earlier
step imported cost nothing later, so the first probe follows the order botocore imports them in.
Credentials come from the environment (fake keys; no metadata service is asked), or for IRSA from moto.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from typing import Any

from bench.bench_cloudwatch import ENV
from bench.versions import versions

BASE = (
    "flb_fast engine + AWS output modules + msgspec + uvloop",
    "import flb_fast.engine.executors, flb_fast.outputs.kinesis_firehose, flb_fast.outputs.kinesis_streams,"
    " flb_fast.outputs.cloudwatch_logs, msgspec, uvloop\n"
    "from flb_fast.config.common import plugin_table\n"
    "from flb_fast.config.model import Property\n"
    "properties = [Property(key, value, '<probe>', 0) for key, value in"
    " (('region', 'us-east-1'), ('endpoint', '127.0.0.1'), ('log_group_name', 'g'), ('log_stream_name', 's'))]\n"
    "options, _ = plugin_table('output', flb_fast.outputs.cloudwatch_logs.CloudWatchLogsOutput.OPTIONS)"
    ".bind(properties, '[OUTPUT] cloudwatch_logs')",
)
# (step, Python run in the probe's namespace); ``service`` is the output's service name.
PROBES = {
    "botocore client": (
        BASE,
        ("http.client (stdlib)", "import http.client"),
        ("urllib3", "import urllib3"),
        ("dateutil", "import dateutil.parser, dateutil.tz"),
        ("botocore credential chain + SigV4 signer", "import botocore.credentials, botocore.auth"),
        ("rest of botocore.session (client, handlers, serialisers, endpoint rules)", "import botocore.session"),
        ("Session() + credentials from the environment",
         "session = botocore.session.Session(); session.get_credentials().get_frozen_credentials()"),
        ("the output's client (create_client)",
         "from flb_fast.outputs.aws.client import create_client\nclient = create_client(service, options, 1)"),
        ("TLS context with the system CA store", "import ssl; context = ssl.create_default_context()"),
    ),
    "calls on the loop, keys in the environment": (
        BASE,
        ("open_json_api: keys from the environment, signer, User-Agent, the calls' TLS context",
         "from flb_fast.outputs.aws.http import open_json_api\napi = open_json_api(service, options, None, 1)\n"
         "assert type(api._credentials).__name__ == 'EnvironmentCredentials'"),
        ("(for comparison) botocore's credential chain and signer imported",
         "import botocore.credentials, botocore.auth"),
    ),
    "calls on the loop, botocore's chain": (
        BASE,
        ("http.client and email (stdlib; botocore.compat imports them)", "import http.client"),
        ("importlib.metadata (urllib3.http2 imports it to read h2's version)", "import importlib.metadata"),
        ("urllib3", "import urllib3"),
        ("dateutil", "import dateutil.parser, dateutil.tz"),
        ("xml.etree (botocore.compat)", "import xml.etree.ElementTree"),
        ("botocore.compat", "import botocore.compat"),
        ("botocore.config: endpoint, parsers, utils, httpsession (botocore.credentials imports it)",
         "import botocore.config"),
        ("botocore.credentials", "import botocore.credentials"),
        ("the chain resolved + signer + User-Agent + the calls' TLS context (open_json_api)",
         "from flb_fast.outputs.aws.http import open_json_api\napi = open_json_api(service, options, None, 1)\n"
         "assert api._credentials.method == 'shared-credentials-file'"),
    ),
    "IRSA web identity": (
        BASE,
        ("botocore.credentials and what it imports", "import botocore.credentials"),
        ("the chain resolved through STS: a botocore session and its STS client (ChainSession.create_client)",
         "from flb_fast.outputs.aws.credentials import ChainSession, chain_credentials\n"
         "credentials = chain_credentials(ChainSession(None), options)\n"
         "credentials.get_frozen_credentials()"),
    ),
}
# The IRSA probe's web identity token (any JWT-shaped text: moto does not verify it).
WEB_IDENTITY_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6YWdlbnQifQ.c2lnbmF0dXJl"

PROBE = """
import gc, json, os, sys
from bench.procstat import memory_mib
steps = json.loads(sys.argv[1])
namespace = {"service": sys.argv[2]}
out = []
for name, code in steps:
    exec(code, namespace)
    gc.collect()
    out.append([name, memory_mib(os.getpid())[0], len(sys.modules)])
print(json.dumps(out))
"""


def measure(probe: str, service: str, env: dict[str, str]) -> list[dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(PROBES[probe]), service],
        capture_output=True, text=True, check=True, env=env,
    )
    rows = []
    previous = 0.0
    previous_modules = 0
    for name, rss, modules in json.loads(done.stdout):
        rows.append({"step": name, "rss_mib": round(rss, 1), "added_mib": round(rss - previous, 1),
                     "modules": modules, "added_modules": modules - previous_modules})
        previous, previous_modules = rss, modules
    return rows


def _credentials_file_env(env: dict[str, str]) -> dict[str, str]:
    """``env`` with its keys moved to the default profile of a shared credentials file."""
    import atexit
    import shutil
    import tempfile

    directory = tempfile.mkdtemp(prefix="flb-credentials-")
    atexit.register(shutil.rmtree, directory, True)
    path = os.path.join(directory, "credentials")
    with open(path, "w") as handle:
        handle.write(f"[default]\naws_access_key_id = {env['AWS_ACCESS_KEY_ID']}\n"
                     f"aws_secret_access_key = {env['AWS_SECRET_ACCESS_KEY']}\n")
    keys = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
    return {**{name: value for name, value in env.items() if name not in keys}, "AWS_SHARED_CREDENTIALS_FILE": path}


def _irsa_env(env: dict[str, str]) -> dict[str, str]:
    """``env`` as EKS sets it for IRSA (a role and a web identity token file, no keys), with STS
    answered by moto on 127.0.0.1 for the rest of this process."""
    import atexit
    import tempfile

    from tests.fakes.moto_server import MotoServer

    server = MotoServer()
    atexit.register(server.stop)
    token = os.path.join(tempfile.mkdtemp(prefix="flb-irsa-"), "token")
    with open(token, "w") as handle:
        handle.write(WEB_IDENTITY_TOKEN)
    keys = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
    return {**{name: value for name, value in env.items() if name not in keys},
            "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/agent", "AWS_WEB_IDENTITY_TOKEN_FILE": token,
            "AWS_ENDPOINT_URL_STS": server.url}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_aws_memory", description=__doc__.split("\n\n")[0])
    parser.add_argument("--service", default="firehose", choices=("logs", "firehose", "kinesis"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    env = {**os.environ, **ENV}
    results = {probe: measure(probe, args.service, env) for probe in PROBES if probe == "botocore client"}
    results["calls on the loop, keys in the environment"] = measure(
        "calls on the loop, keys in the environment", args.service, env)
    results["calls on the loop, botocore's chain"] = measure(
        "calls on the loop, botocore's chain", args.service, _credentials_file_env(env))
    results["IRSA web identity"] = measure("IRSA web identity", args.service, _irsa_env(env))
    if args.json:
        print(json.dumps({"service": args.service, "probes": results,
                          "versions": versions("botocore", "urllib3", "python-dateutil")}, indent=1))
        return 0
    for probe, rows in results.items():
        print(f"{probe} ({args.service}):")
        for row in rows:
            print(f"{row['rss_mib']:7.1f} MiB  +{row['added_mib']:5.1f}  +{row['added_modules']:3d} modules  {row['step']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
