"""The second step of signing in, and one's own factors (records.users.mfa)."""
