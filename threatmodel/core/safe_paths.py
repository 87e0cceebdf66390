"""Which declared file paths are safe to write into audit rules and shell scripts.

Paths come from a YAML file and end up in files that root loads (/etc/audit/rules.d) and
scripts a pipeline runs, so they are held to a strict form: absolute (a relative path in a model
is first resolved against the folder of its file, see system_load), ASCII, no whitespace or
control characters, no '.' or '..' segments, no empty segments, and only characters that are
inert both in a shell word and in an audit rule. A crafted path can therefore never add a
second audit rule (say '-D' or '-e 0') or a shell command.
"""

from __future__ import annotations

SAFE_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._@%+=:,~-/")
MAX_PATH_LENGTH = 4096


def path_problem(path: str) -> str | None:
    """Why ``path`` is unsafe, or None when it is fine."""
    if not path.startswith("/"):
        return "must be an absolute path (starting with '/')"
    if len(path) > MAX_PATH_LENGTH:
        return f"is longer than {MAX_PATH_LENGTH} characters"
    for character in path:
        if ord(character) < 32 or ord(character) == 127:
            return f"contains a control character ({character!r})"
        if character.isspace():
            return "contains whitespace, which audit rules and shells split on"
        if character not in SAFE_CHARACTERS:
            return (f"contains {character!r}, which is not allowed in a path (only letters, digits and "
                    "._@%+=:,~- are, so that audit rules and shell scripts stay unambiguous)")
    segments = path.split("/")[1:]
    if path != "/" and path.endswith("/"):
        segments = segments[:-1]
    for segment in segments:
        if segment == "":
            return "contains an empty segment ('//')"
        if segment in (".", ".."):
            return f"contains a '{segment}' segment; write the path without it"
        if segment.startswith("-"):
            return f"has a segment starting with '-' ('{segment}'), which tools may read as an option"
    if path == "/":
        return "is the root folder"
    return None
