"""General paediatric visit records."""
