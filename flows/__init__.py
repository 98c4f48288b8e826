"""Orchestration: the Prefect flows and the `corpus` command line."""
