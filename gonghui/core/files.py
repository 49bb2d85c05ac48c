"""Serving private uploads (evidence, attachments, legal-aid documents): only through views that
check access first, never from a public media URL, and never as something the browser would run."""

from __future__ import annotations

from django.http import FileResponse


def private_file(handle, *, filename: str, content_type: str, inline_images: bool = False) -> FileResponse:
    """The file as a download (photos shown in place when `inline_images`), not sniffed, not cached,
    sandboxed: the type was read from the file's bytes at upload, and nothing in it may run."""
    inline = inline_images and content_type.startswith("image/")
    response = FileResponse(handle, as_attachment=not inline, filename=filename, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = ("default-src 'none'; img-src 'self'; sandbox" if inline
                                           else "default-src 'none'; sandbox")
    return response
