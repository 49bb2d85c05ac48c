from django.apps import AppConfig


class LegalConfig(AppConfig):
    name = "gonghui.legal"
    label = "legal"
    verbose_name = "法务云"
