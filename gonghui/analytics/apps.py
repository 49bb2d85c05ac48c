from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "gonghui.analytics"
    label = "analytics"
    verbose_name = "统计"
