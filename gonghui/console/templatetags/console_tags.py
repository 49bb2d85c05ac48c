from django import template

register = template.Library()


@register.filter
def num(value) -> str:
    """Group digits with commas (450,203) whatever the locale's grouping rules are."""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return "" if value is None else str(value)
