"""The output folder: immutable Parquet files, the manifest and its snapshots, the journal, the lock,
garbage collection, compaction, the plan of what a build must redo."""
