"""The demo data builder of development machines: accounts, charts and seed_demo."""
