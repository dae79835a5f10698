"""Datastore: uploads become typed, immutable Parquet versions.

`reader.read_to_parquet` turns one file (CSV/TSV in any common Chinese encoding, XLSX, XLS,
JSON, JSON Lines) into `data.parquet` plus `rejects.csv` and a `ReadReport`; it needs no database.
"""
