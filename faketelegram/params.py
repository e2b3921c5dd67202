"""Method parameters: request bodies decoded, values coerced the way the Bot API does."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from typing import Any
from urllib.parse import parse_qsl

from faketelegram.errors import bad_request


@dataclass(frozen=True)
class Upload:
    """A file sent in a multipart request."""

    data: bytes
    filename: str | None = None
    mime_type: str | None = None


class Params:
    """The parameters of one call; form values arrive as strings and are coerced on read."""

    def __init__(
        self, values: Mapping[str, Any], files: Mapping[str, bytes | Upload] | None = None
    ) -> None:
        self.values = dict(values)
        self.files = {
            name: f if isinstance(f, Upload) else Upload(f) for name, f in (files or {}).items()
        }

    def has(self, name: str) -> bool:
        """Return whether name was given."""
        return self.values.get(name) is not None or name in self.files

    def get(self, name: str) -> Any:
        """Return the raw value of name, or None."""
        return self.values.get(name)

    def get_str(self, name: str) -> str | None:
        """Return name as a string, or None."""
        value = self.values.get(name)
        return None if value is None else str(value)

    def get_int(self, name: str) -> int | None:
        """Return name as an integer, or None; a non-number is a 400."""
        value = self.values.get(name)
        if value is None or value == "":
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def get_float(self, name: str) -> float | None:
        """Return name as a float, or None; a non-number is a 400."""
        value = self.values.get(name)
        if value is None or value == "":
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def get_bool(self, name: str) -> bool:
        """Return name as a boolean; absent is False."""
        value = self.values.get(name)
        if isinstance(value, str):
            return value.strip().lower() in {"true", "1"}
        return bool(value)

    def get_json(self, name: str) -> Any:
        """Return name decoded from JSON when it came as a string (form and multipart bodies)."""
        value = self.values.get(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {name} JSON object") from None

    def require_int(self, name: str) -> int:
        """Return name as an integer; absent is "Bad Request: <name> is empty"."""
        value = self.get_int(name)
        if value is None:
            raise bad_request(f"{name} is empty")
        return value

    def file(self, name: str) -> Upload | str | None:
        """Return an uploaded file for name (direct or attach://), a file_id/URL, or None."""
        if name in self.files:
            return self.files[name]
        value = self.get_str(name)
        if value and value.startswith("attach://"):
            upload = self.files.get(value.removeprefix("attach://"))
            if upload is None:
                raise bad_request("wrong file identifier/HTTP URL specified")
            return upload
        return value or None


def parse_body(
    content_type: str, body: bytes, query: str = ""
) -> tuple[dict[str, Any], dict[str, bytes | Upload]]:
    """Decode a request into values and files: query string plus JSON, form or multipart."""
    values: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    files: dict[str, bytes | Upload] = {}
    media_type = content_type.split(";")[0].strip().lower()
    if media_type == "application/json" and body.strip():
        try:
            decoded = json.loads(body)
        except ValueError:
            raise bad_request("can't parse JSON encoded request") from None
        if not isinstance(decoded, dict):
            raise bad_request("can't parse JSON encoded request")
        values.update(decoded)
    elif media_type == "application/x-www-form-urlencoded":
        values.update(parse_qsl(body.decode(), keep_blank_values=True))
    elif media_type == "multipart/form-data":
        fields, files = _parse_multipart(content_type, body)
        values.update(fields)
    return values, files


def _parse_multipart(
    content_type: str, body: bytes
) -> tuple[dict[str, str], dict[str, bytes | Upload]]:
    header = BytesHeaderParser().parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode())
    boundary = header.get_param("boundary")
    if not isinstance(boundary, str):
        raise bad_request("can't parse multipart request")
    fields: dict[str, str] = {}
    files: dict[str, bytes | Upload] = {}
    delimiter = b"--" + boundary.encode()
    for chunk in body.split(delimiter)[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, data = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        data = data.removesuffix(b"\r\n")
        part = BytesHeaderParser().parsebytes(head + b"\r\n\r\n")
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        filename = part.get_filename()
        if filename is None:
            fields[name] = data.decode()
        else:
            files[name] = Upload(data, filename, part.get_content_type())
    return fields, files
