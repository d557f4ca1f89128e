"""Routes of the media blueprint."""
