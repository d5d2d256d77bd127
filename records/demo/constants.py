"""The demo's fixed values: the MRN prefix, the reason its rows carry, its teams,
seed and size, where its media fixtures are, and the phone range it may use."""

from pathlib import Path

from django.conf import settings

E_NOT_DEBUG = "Demo charts are only created with DEBUG on; this looks like production."

DEMO_MRN_PREFIX = "DEMO-"
DEMO_REASON = "Demo data"
DEMO_TEAMS = ("Neonatal follow-up", "Autism assessment", "General paediatrics")
DEMO_SEED = 20261126
DEMO_COUNT = 300
DEMO_MEDIA_DIR = Path(settings.BASE_DIR) / "fixtures" / "demo_media"

# Ofcom keeps 020 7946 0000-0999 for drama. Its mobile drama range, 07700 900xxx, would
# be the natural choice, but libphonenumber (so PhoneNumberField) refuses it as invalid.
DEMO_PHONE_PREFIX = "+442079460"
