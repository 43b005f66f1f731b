"""Shared by the AWS outputs: options, endpoint resolution, clients and credentials, error
classification, the output-wide backoff gate, record encoding and name templates.

Nothing here imports boto3 at module import: a config without AWS outputs must not pay for it.
"""
