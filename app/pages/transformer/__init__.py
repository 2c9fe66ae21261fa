"""The trained-transformer page (/transformer)."""
