"""Audit log: hash-chained events for every staff and assisted action."""
