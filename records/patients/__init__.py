"""Patients, their neurodevelopmental assessments and media."""
