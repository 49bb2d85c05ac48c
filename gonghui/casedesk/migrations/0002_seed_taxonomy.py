"""The case taxonomy ships seeded (casedesk/taxonomy.py); admins edit it afterwards."""

from django.db import migrations


def seed(apps, schema_editor):
    from gonghui.casedesk.taxonomy import seed as seed_categories

    seed_categories(apps.get_model("casedesk", "CaseCategory"))


class Migration(migrations.Migration):
    dependencies = [("casedesk", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
