"""The append-only, hash-chained audit stream: who did what, and who saw what."""
