"""Users, roles and the sign-in facts recorded about them."""
