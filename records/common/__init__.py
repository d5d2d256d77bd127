"""Shared building blocks of the domain apps: base model, model_update, errors."""
