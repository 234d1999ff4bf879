"""The account snapshot: collectors, model, storage, read-only guard."""
