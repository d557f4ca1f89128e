"""Routes of the maps blueprint."""
