"""The pipeline's stages as pure, typed functions, each module one stage.

ingest -> langtag -> segment -> align -> export. Each module also exposes a thin Prefect task
wrapper; everything here can be imported and unit-tested without a Prefect server.
"""
