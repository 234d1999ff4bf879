"""Builders for the Lambda events the handlers receive, shaped as AWS delivers them."""

from __future__ import annotations

import json
from typing import Any


def apigw_event(method: str, path: str, body: Any = None, raw_body: str | None = None) -> dict:
    """Build a REST API (v1) Lambda proxy event as API Gateway sends it."""
    if raw_body is None and body is not None:
        raw_body = json.dumps(body)
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json", "Host": "api.example.com"},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "httpMethod": method,
            "path": f"/prod{path}",
            "requestId": "req-0001",
            "resourcePath": path,
            "stage": "prod",
            "identity": {"sourceIp": "203.0.113.10"},
        },
        "body": raw_body,
        "isBase64Encoded": False,
    }


def sqs_event(*bodies: str) -> dict:
    """Build an SQS batch event with one record per body (message ids msg-0, msg-1, ...)."""
    arn = "arn:aws:sqs:us-east-1:123456789012:orders-events-test"
    return {
        "Records": [
            {
                "messageId": f"msg-{i}",
                "receiptHandle": f"handle-{i}",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1700000000000",
                    "SenderId": "123456789012",
                    "ApproximateFirstReceiveTimestamp": "1700000000001",
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": "us-east-1",
            }
            for i, body in enumerate(bodies)
        ]
    }
