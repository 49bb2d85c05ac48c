from django.core.management.base import BaseCommand

from gonghui.orgs.occupations import load_occupations


class Command(BaseCommand):
    help = "Load the 2022 occupational classification (data/occupations) into the Occupation table."

    def handle(self, *args, **options):
        count = load_occupations()
        self.stdout.write(self.style.SUCCESS(f"职业分类：{count} 条"))
