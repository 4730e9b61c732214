"""The versioned JSON files of the text objects (``Vocab``, ``BPETokenizer``): written with a
``format`` tag and a version, checked on reading so that a wrong file fails by name."""
import json
import os

VERSION = 1


def write_json(path, kind, payload):
    """Write ``payload`` as ``{"format": "minidl.text.<kind>", "version": 1, ...}``."""
    data = {"format": f"minidl.text.{kind}", "version": VERSION, **payload}
    with open(os.fspath(path), "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False)


def read_json(path, kind):
    """The dict ``write_json`` wrote for ``kind``; ValueError naming the file otherwise."""
    path = os.fspath(path)
    tag = f"minidl.text.{kind}"
    try:
        with open(path, encoding="utf-8") as handle:
            payload = json.load(handle)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path!r} is not a minidl {kind} file (not JSON: {error})") from None
    if not isinstance(payload, dict) or payload.get("format") != tag:
        raise ValueError(f"{path!r} is not a minidl {kind} file (no format {tag!r})")
    if payload.get("version") != VERSION:
        raise ValueError(f"{path!r}: unsupported {kind} file version "
                         f"{payload.get('version')!r}")
    return payload
