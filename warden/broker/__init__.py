"""The broker-backed event path of a multi-node deployment (WARDEN_BROKER_URL set): the outbox relay,
the JetStream moderation consumer, `warden worker` roles and `warden status` (docs/broker.md).

Unset, none of this runs: the embedded default consumes the outbox in the server process."""
