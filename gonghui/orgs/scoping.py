"""Which tables carry a copied org path. A node move rewrites the prefix in every one of them;
later modules (members, cases, postings) register their own models here."""

from __future__ import annotations

from django.db import models

SCOPED: list[tuple[type[models.Model], str]] = []
# Columns that hold the path of the union *above* the row's holder (path_field), beside the holder's
# own path (holder_field). The prefix rewrite covers rows held inside the moved subtree; rows held by
# the moved node itself get the new parent's path.
PARENT_SCOPED: list[tuple[type[models.Model], str, str]] = []


def register_scoped(model: type[models.Model], path_field: str) -> None:
    if (model, path_field) not in SCOPED:
        SCOPED.append((model, path_field))


def register_parent_scoped(model: type[models.Model], path_field: str, holder_field: str) -> None:
    register_scoped(model, path_field)
    if (model, path_field, holder_field) not in PARENT_SCOPED:
        PARENT_SCOPED.append((model, path_field, holder_field))
