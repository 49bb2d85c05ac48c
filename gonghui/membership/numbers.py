"""Member numbers: PP YY NNNNNNNNN C — province, year of joining, a national sequence, and an
ISO 7064 MOD 11-2 check character (the same scheme as the resident ID number: 0-9 or X), so a
mistyped number is caught before any lookup."""

from __future__ import annotations

from django.db import connection, transaction
from stdnum.iso7064 import mod_11_2

SEQUENCE = "membership_member_no_seq"


def next_sequence(count: int = 1) -> list[int]:
    """National sequence values: a PostgreSQL sequence (no lock, no hot row); a counter row on SQLite."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT nextval('{SEQUENCE}') FROM generate_series(1, %s)", [count])
            return [row[0] for row in cursor.fetchall()]
        with transaction.atomic():
            cursor.execute("UPDATE membership_membernocounter SET value = value + %s WHERE id = 1", [count])
            if cursor.rowcount == 0:
                cursor.execute("INSERT INTO membership_membernocounter (id, value) VALUES (1, %s)", [count])
            cursor.execute("SELECT value FROM membership_membernocounter WHERE id = 1")
            last = cursor.fetchone()[0]
        return list(range(last - count + 1, last + 1))


def make_member_no(province_code: str, year: int, seq: int) -> str:
    body = f"{(province_code or '00')[:2]:0>2}{year % 100:02d}{seq:09d}"
    return body + mod_11_2.calc_check_digit(body)


def member_nos(province_code: str, year: int, count: int) -> list[str]:
    return [make_member_no(province_code, year, seq) for seq in next_sequence(count)]


def is_valid_member_no(value: str) -> bool:
    value = (value or "").replace(" ", "").upper()
    return len(value) == 14 and value[:13].isdigit() and mod_11_2.is_valid(value)


def format_member_no(value: str) -> str:
    """44 26 000000123 X: groups a person can read out on the phone."""
    if len(value) != 14:
        return value
    return f"{value[:2]} {value[2:4]} {value[4:13]} {value[13]}"
