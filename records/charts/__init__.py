"""The chart read model across apps: what opening a patient shows (no models)."""
