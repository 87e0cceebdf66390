"""OpenSSF model-signing verification transcripts: the output of ``model_signing verify …``.

``model_signing verify {sigstore,key,certificate} MODEL_PATH --signature …`` prints
``Verification succeeded`` or ``Verification failed with error: …`` (exit status 1). The
model path comes from the command line echoed above the result (``$ model_signing verify key
/models/m --signature m.sig --public_key pub.pem``, or ``+ …`` from ``set -x``), or from
``covers:`` in the review file. Format: https://github.com/sigstore/model-transparency (CLI).
"""

from __future__ import annotations

import posixpath
from typing import Any

from threatmodel.evidence.common import ReaderResult, command_lines, text_field
from threatmodel.evidence.model import EvidenceEntry, Observation
from threatmodel.core.errors import Location

TOOL = "model-signing"
SUBJECT = "path"
JSON = False
ORDER = 10  # where it is tried among the readers of its kind (JSON or text)
DESCRIPTION = "model_signing verify output"
SUCCEEDED = "Verification succeeded"
FAILED = "Verification failed"
UNCHECKED = "could not check"  # written by the scan script when no key or signer identity is set
# a failure that says nothing about the signature: sigstore could not be reached
_OFFLINE = ("connection", "name or service not known", "temporary failure in name resolution", "timed out",
            "max retries exceeded", "network is unreachable", "no route to host", "nodename nor servname")
_FLAGS = {"--allow_symlinks", "--ignore-git-paths", "--no-ignore-git-paths", "--use_staging", "--ignore_unsigned_files",
          "--use-staging"}
_METHODS = {"sigstore", "key", "certificate", "pkcs11-key", "pkcs11-certificate"}


def recognises(text: str, document: Any) -> bool:
    return document is None and any(line.strip().startswith((SUCCEEDED, FAILED)) for line in text.splitlines()) or (
        document is None and bool(command_lines(text, ("model_signing",)))
        and any(line.strip().startswith(UNCHECKED) for line in text.splitlines()))


def _model_path(argv: list[str]) -> str | None:
    """MODEL_PATH of ``model_signing verify METHOD [OPTIONS] MODEL_PATH [OPTIONS]``."""
    if "verify" not in argv:
        return None
    rest = argv[argv.index("verify") + 1:]
    if rest and rest[0] in _METHODS:
        rest = rest[1:]
    skip = False
    for arg in rest:
        if skip:
            skip = False
        elif arg.startswith("-"):
            skip = arg not in _FLAGS and "=" not in arg
        else:
            return arg
    return None


def read(text: str, document: Any, name: str, entry: EvidenceEntry) -> ReaderResult:
    result = ReaderResult()
    commands = {number: _model_path(argv) for number, argv in command_lines(text, ("model_signing",))}
    current: str | None = None
    lines = text.splitlines()
    for number, line in enumerate(lines, 1):
        if number in commands:
            current = commands[number]
            continue
        stripped = line.strip()
        if not stripped.startswith((SUCCEEDED, FAILED, UNCHECKED)):
            continue
        ok = stripped.startswith(SUCCEEDED)
        unchecked = stripped.startswith(UNCHECKED) or (not ok and any(word in stripped.lower() for word in _OFFLINE))
        detail = "signature verified" if ok else text_field(stripped, 300)
        if unchecked and not stripped.startswith(UNCHECKED):
            detail = f"could not check (the signing service was not reachable): {detail}"
        subjects = [posixpath.normpath(current)] if current else [posixpath.normpath(p) for p in entry.covers]
        if not subjects:
            result.notes.append(f"line {number}: a verification result without the model path; echo the command line "
                                "into the file or say 'covers:' in the review file")
        for subject in subjects:
            if subject not in result.scope:
                result.scope.append(subject)
            result.observations.append(Observation(subject, ok, detail, Location(name, number, 1), unchecked=unchecked))
        current = None
    result.roots = list(result.scope)
    return result
