"""Which columns hold personal information: (model label, encrypted column, hash column or None,
hash kind). `pii_rotate` walks these; a new module with encrypted columns adds them here."""

ENCRYPTED_COLUMNS = [
    ("accounts.User", "phone_encrypted", "phone_hash", "phone"),
    ("membership.Application", "id_encrypted", "id_hash", "id"),
    ("membership.Application", "phone_encrypted", "phone_hash", "phone"),
    ("membership.Member", "id_encrypted", "id_hash", "id"),
    ("membership.Member", "phone_encrypted", "phone_hash", "phone"),
    ("membership.RosterRow", "id_encrypted", "id_hash", "id"),
    ("membership.RosterRow", "phone_encrypted", "phone_hash", "phone"),
    ("membership.ChangeRequest", "changes_encrypted", None, ""),
]
