"""How each resource type reaches the moto account: the deployer's table.

A type is created in one of three ways:

* by moto's CloudFormation (:data:`STACK_TYPES`), which evaluates the intrinsics;
* by a fallback (:data:`FALLBACKS`): the API call CloudFormation's own handler makes, for
  types moto's CloudFormation lacks or creates without some of their properties (a function
  without its tags, tracing or architecture; a role without its managed policies; a table
  without point-in-time recovery; a bucket without its notifications; ...). Properties no
  control reads and moto cannot apply are listed in :data:`NOT_APPLIED` and reported;
* not at all (:data:`UNSUPPORTED`, and any type in neither table): the resource is listed in
  the results document with the reason, and the controls whose data it holds are ERROR.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_prr.deploy import (
    apigateway,
    apigatewayv2,
    event_resources,
    lambda_resources,
    service_resources,
)
from pytest_prr.deploy.target import Fallback

FALLBACKS: dict[str, Fallback] = {
    "AWS::Lambda::Function": lambda_resources.function,
    "AWS::Lambda::Version": lambda_resources.version,
    "AWS::Lambda::Alias": lambda_resources.alias,
    "AWS::Lambda::Url": lambda_resources.url,
    "AWS::Lambda::EventInvokeConfig": lambda_resources.event_invoke_config,
    "AWS::Lambda::EventSourceMapping": lambda_resources.event_source_mapping,
    "AWS::Lambda::LayerVersion": lambda_resources.layer_version,
    "AWS::Lambda::LayerVersionPermission": lambda_resources.layer_permission,
    "AWS::IAM::Role": service_resources.role,
    "AWS::DynamoDB::Table": service_resources.table,
    "AWS::KMS::Key": service_resources.key,
    "AWS::Logs::LogGroup": service_resources.log_group,
    "AWS::Logs::SubscriptionFilter": service_resources.subscription_filter,
    "AWS::CloudWatch::Alarm": service_resources.alarm,
    "AWS::SQS::QueuePolicy": service_resources.queue_policy,
    "AWS::SNS::TopicPolicy": service_resources.topic_policy,
    "AWS::SNS::Subscription": service_resources.subscription,
    "AWS::S3::Bucket": service_resources.bucket,
    "AWS::S3::BucketPolicy": service_resources.bucket_policy,
    "AWS::SecretsManager::Secret": service_resources.secret,
    "AWS::Scheduler::Schedule": service_resources.schedule,
    "AWS::Scheduler::ScheduleGroup": service_resources.schedule_group,
    "AWS::Kinesis::StreamConsumer": service_resources.stream_consumer,
    "AWS::SQS::Queue": event_resources.queue,
    "AWS::SNS::Topic": event_resources.topic,
    "AWS::Lambda::Permission": event_resources.permission,
    "AWS::Events::Rule": event_resources.rule,
    "AWS::Events::EventBus": event_resources.event_bus,
    "AWS::IAM::Policy": event_resources.role_policy,
    "AWS::IAM::ManagedPolicy": event_resources.managed_policy,
    "AWS::Kinesis::Stream": event_resources.stream,
    "AWS::StepFunctions::StateMachine": event_resources.state_machine,
    "AWS::ApiGateway::RestApi": apigateway.rest_api,
    "AWS::ApiGateway::Authorizer": apigateway.authorizer,
    "AWS::ApiGateway::Deployment": apigateway.deployment,
    "AWS::ApiGateway::Stage": apigateway.stage,
    "AWS::ApiGatewayV2::Api": apigatewayv2.api,
    "AWS::ApiGatewayV2::Stage": apigatewayv2.stage,
    "AWS::ApiGatewayV2::Integration": apigatewayv2.integration,
    "AWS::ApiGatewayV2::Route": apigatewayv2.route,
    "AWS::ApiGatewayV2::Authorizer": apigatewayv2.authorizer,
}

#: What moto 5.2's CloudFormation creates with the properties the controls read. Types it
#: also knows but that are in FALLBACKS are created by the fallback: faithfully, and without
#: waiting for moto's CloudFormation to load.
STACK_TYPES = frozenset(
    {
        "AWS::ApiGateway::Method",
        "AWS::ApiGateway::Resource",
        "AWS::CloudWatch::Dashboard",
        "AWS::EC2::EIP",
        "AWS::EC2::InternetGateway",
        "AWS::EC2::NatGateway",
        "AWS::EC2::Route",
        "AWS::EC2::RouteTable",
        "AWS::EC2::SecurityGroup",
        "AWS::EC2::SecurityGroupIngress",
        "AWS::EC2::Subnet",
        "AWS::EC2::SubnetRouteTableAssociation",
        "AWS::EC2::VPC",
        "AWS::EC2::VPCEndpoint",
        "AWS::EC2::VPCGatewayAttachment",
        "AWS::ECR::Repository",
        "AWS::EFS::AccessPoint",
        "AWS::EFS::FileSystem",
        "AWS::EFS::MountTarget",
        "AWS::Events::Archive",
        "AWS::IAM::InstanceProfile",
        "AWS::IAM::User",
        "AWS::KMS::Alias",
        "AWS::Logs::ResourcePolicy",
        "AWS::SSM::Parameter",
    }
)

#: Properties no control reads that the fallback does not apply on moto; the deployment
#: lists each one it leaves out (``Deployment.not_applied``).
NOT_APPLIED: dict[str, frozenset[str]] = {
    "AWS::Lambda::Function": frozenset({"RecursiveLoop", "RuntimeManagementConfig"}),
    # moto has no provisioned concurrency (PutProvisionedConcurrencyConfig).
    "AWS::Lambda::Alias": frozenset({"ProvisionedConcurrencyConfig"}),
    "AWS::Lambda::Version": frozenset({"ProvisionedConcurrencyConfig"}),
    "AWS::S3::Bucket": frozenset(
        {
            "AccelerateConfiguration",
            "AccessControl",
            "AnalyticsConfigurations",
            "CorsConfiguration",
            "IntelligentTieringConfigurations",
            "InventoryConfigurations",
            "LifecycleConfiguration",
            "LoggingConfiguration",
            "MetricsConfigurations",
            "ObjectLockConfiguration",
            "ObjectLockEnabled",
            "OwnershipControls",
            "ReplicationConfiguration",
            "WebsiteConfiguration",
        }
    ),
    "AWS::DynamoDB::Table": frozenset(
        {"ContributorInsightsSpecification", "KinesisStreamSpecification", "ResourcePolicy"}
    ),
    "AWS::KMS::Key": frozenset({"Enabled", "PendingWindowInDays", "RotationPeriodInDays"}),
    "AWS::Logs::LogGroup": frozenset({"DataProtectionPolicy", "FieldIndexPolicies"}),
    "AWS::SecretsManager::Secret": frozenset({"ReplicaRegions"}),
}

#: Types neither creates, with the reason and the controls whose data they would provide.
UNSUPPORTED: dict[str, tuple[str, tuple[str, ...]]] = {
    "AWS::Lambda::CodeSigningConfig": (
        "moto implements no Lambda code signing configs",
        ("SEC-04", "DEP-03"),
    ),
    "AWS::CodeDeploy::Application": (
        "moto's CloudFormation does not implement CodeDeploy",
        ("DEP-01", "DEP-02"),
    ),
    "AWS::CodeDeploy::DeploymentGroup": (
        "moto's CloudFormation does not implement CodeDeploy",
        ("DEP-01", "DEP-02"),
    ),
    # A stage names the routes' deployment only to publish them: the routes, which the API
    # controls read, exist without it.
    "AWS::ApiGatewayV2::Deployment": ("moto does not implement API Gateway v2 deployments", ()),
}

#: A function property lost because it named an unsupported resource -> the controls that
#: read it (the function's other controls stand).
FUNCTION_PROPERTY_CONTROLS: dict[str, tuple[str, ...]] = {
    "CodeSigningConfigArn": ("SEC-04", "DEP-03"),
    "DeadLetterConfig": ("REL-01", "DAT-02", "DAT-03"),
    "Environment": ("SEC-02",),
    "KmsKeyArn": ("SEC-03", "DAT-04"),
    "Layers": ("SEC-07",),
    "LoggingConfig": ("OBS-02", "OBS-07", "DAT-04", "DAT-05"),
    "Role": ("IAM-01", "IAM-02", "IAM-03", "IAM-04", "IAM-05", "IAM-06"),
    "VpcConfig": ("NET-01", "NET-02", "NET-03"),
}


def fallback_for(resource: Mapping[str, Any]) -> Fallback | None:
    """The fallback that creates ``resource``, or None when moto's CloudFormation does (a
    REST API without a definition is moto's, with its Resource and Method resources)."""
    kind = resource["Type"]
    if kind == "AWS::ApiGateway::RestApi":
        properties = resource.get("Properties", {})
        return apigateway.rest_api if {"Body", "BodyS3Location"} & properties.keys() else None
    return FALLBACKS.get(kind)


def unsupported_reason(kind: str) -> tuple[str, tuple[str, ...]] | None:
    """Why a type cannot be created on moto, and the controls it feeds; None when it can."""
    if kind in UNSUPPORTED:
        return UNSUPPORTED[kind]
    if kind in FALLBACKS or kind in STACK_TYPES or kind == "AWS::ApiGateway::RestApi":
        return None
    return (f"neither moto's CloudFormation nor pytest-prr's deployer creates {kind}", ())
