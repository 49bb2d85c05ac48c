"""Which tables carry a copied org path. A node move rewrites the prefix in every one of them;
later modules (members, cases, postings) register their own models here."""

from __future__ import annotations

from django.db import models

SCOPED: list[tuple[type[models.Model], str]] = []


def register_scoped(model: type[models.Model], path_field: str) -> None:
    if (model, path_field) not in SCOPED:
        SCOPED.append((model, path_field))
