"""The growth figures of the visits recorded before there were any are filled by
`manage.py growth_recompute`, not here: rcpchgrowth takes about 5 ms a
measurement, so a migration over every visit would hold a deploy (and the
migrate job's lock) for hours at a regional clinic's size. The command works a
batch at a time while NDAS serves, and can stop and start again."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("clinical_records", "0007_growth_figures"),
        ("patients", "0009_growth_reference"),
    ]

    operations = []
