"""The NDAS domain: models, services, repositories. No HTTP and no admin code here."""
