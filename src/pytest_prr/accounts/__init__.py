"""Where a run reads from: account configuration, boto3 sessions behind the STS guard, and
emulator detection with the embedded moto server. Nothing here knows pytest."""
