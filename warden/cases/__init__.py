"""The moderation engine's case work: decisions and enforcement, cases, partner notices, appeals,
the audit trail and the outbox worker (docs/moderation.md)."""
