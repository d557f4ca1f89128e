"""Outgoing email through the outbox table."""
