"""Helpers for membership tests: valid ID numbers and a ready-made join."""

from __future__ import annotations

import datetime
import itertools

from stdnum.iso7064 import mod_11_2

from gonghui.membership import services

_seq = itertools.count(100)


def make_id_number(region: str = "440305", birth: datetime.date = datetime.date(1990, 5, 17), *,
                   female: bool | None = None, seq: int | None = None) -> str:
    n = next(_seq) if seq is None else seq
    n = n % 1000
    if female is not None and (n % 2 == 0) != female:
        n = (n + 1) % 1000
    body = f"{region}{birth:%Y%m%d}{n:03d}"
    return body + mod_11_2.calc_check_digit(body)


def join(worker, employer=None, **kwargs):
    data = {"name": "张三", "id_number": make_id_number(), "employment_form": "labor_contract", "consent": True}
    if employer is not None:
        data["employer_id"] = employer.pk
    data.update(kwargs)
    return services.application_submit(actor=worker, **data)
