"""NDAS's own date and time formats, per locale (FORMAT_MODULE_PATH)."""
