# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""OpenPGP checks of downloaded packages, as pure functions: the key
file's armor, the pinned fingerprint, and gpgv's status lines.

A signature counts only when gpgv reports VALIDSIG made by the key whose
fingerprint is pinned (as the signing key or as its primary key): a missing
key, another key, or a bad signature all fail.
"""

from __future__ import annotations

import base64
import re
from typing import List

_ARMOR = re.compile(r"-----BEGIN PGP PUBLIC KEY BLOCK-----(.*?)-----END PGP PUBLIC KEY BLOCK-----", re.S)


class OpenPGPError(ValueError):
    """The key, fingerprint or signature does not check out."""


def normalise_fingerprint(text: str) -> str:
    """'9376 16F3 ...' or '0x9376...' -> '937616F3...' (40 hex digits)."""
    value = re.sub(r"\s+", "", str(text or "")).upper()
    if value.startswith("0X"):
        value = value[2:]
    if not re.match(r"^[0-9A-F]{40}$", value):
        raise OpenPGPError("not a v4 OpenPGP fingerprint (40 hex digits): %r" % (text,))
    return value


def dearmor(data: bytes) -> bytes:
    """An ASCII-armored public key block -> its binary packets; binary input
    is returned as it is (gpgv reads binary keyrings only)."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        return data
    match = _ARMOR.search(text)
    if not match:
        if text.lstrip().startswith("-----BEGIN"):
            raise OpenPGPError("the key file is armored but holds no public key block")
        return data
    lines = match.group(1).strip().splitlines()
    body, seen_blank = [], False
    for line in lines:
        line = line.strip()
        if not seen_blank:
            # Armor headers (Version: ..., Comment: ...) end at the first blank line.
            if not line:
                seen_blank = True
            elif ":" not in line:
                seen_blank = True
                body.append(line)
            continue
        if line.startswith("="):  # the CRC-24 line
            break
        body.append(line)
    try:
        packets = base64.b64decode("".join(body), validate=True)
    except ValueError as exc:
        raise OpenPGPError("the key file's armor is not valid base64: %s" % exc)
    if not packets:
        raise OpenPGPError("the key file's armor is empty")
    return packets


def valid_signers(status: str) -> List[str]:
    """Fingerprints gpgv's --status-fd output vouches for: each VALIDSIG's
    signing key and primary key."""
    signers = []
    for line in str(status or "").splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "[GNUPG:]" and parts[1] == "VALIDSIG":
            signers.append(parts[2].upper())
            if len(parts) >= 12:
                signers.append(parts[11].upper())
    return signers


def check_signature(status: str, returncode: int, fingerprint: str) -> None:
    """Raise OpenPGPError unless gpgv succeeded with the pinned key."""
    pinned = normalise_fingerprint(fingerprint)
    signers = valid_signers(status)
    if returncode != 0 or not signers:
        reasons = [line.split(None, 2)[1] for line in str(status or "").splitlines()
                   if line.startswith("[GNUPG:]") and len(line.split()) > 1]
        raise OpenPGPError("the signature does not verify (gpgv exit %s; %s)"
                           % (returncode, ", ".join(sorted(set(reasons))) or "no status"))
    if pinned not in signers:
        raise OpenPGPError("the signature was made by %s, not by the pinned key %s" % (", ".join(sorted(set(signers))),
                                                                                       pinned))
