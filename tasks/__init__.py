"""The pipeline's stages as plain, typed functions (ingest, langtag, segment, align, parallel units), the chain
that rebuilds one work (``tasks.rebuild``), the output store (``tasks.store``) and what reads a built corpus
(``tasks.io``). Nothing here imports Prefect: the orchestration is ``flows/``. See docs/architecture.md."""
