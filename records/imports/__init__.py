"""Spreadsheets in and out: validated, previewed, all-or-nothing imports; exports."""
