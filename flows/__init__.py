"""Prefect flows: the refresh that runs every stage, on demand or on a schedule."""
