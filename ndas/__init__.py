"""NDAS project package: settings, URLs, middleware, logging, checks and health."""
