# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The hash slot of a key (Redis Cluster specification: CRC16-XMODEM of the
key, or of its hash tag, modulo 16384). Pure: the restore uses it to route
keys read from a non-cluster temporary server to their masters."""

from __future__ import annotations

from ansible_collections.redisops.ec2_cluster.plugins.module_utils.redis_info import SLOT_COUNT


def _table():
    table = []
    for byte in range(256):
        crc = byte << 8
        for _bit in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
        table.append(crc & 0xFFFF)
    return tuple(table)


_TABLE = _table()


def crc16(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _TABLE[((crc >> 8) ^ byte) & 0xFF]
    return crc


def hash_tag(key: bytes) -> bytes:
    """The part of the key that is hashed: the first non-empty {...}, else all of it."""
    start = key.find(b"{")
    if start != -1:
        end = key.find(b"}", start + 1)
        if end > start + 1:
            return key[start + 1:end]
    return key


def key_slot(key) -> int:
    if isinstance(key, str):
        key = key.encode("utf-8")
    return crc16(hash_tag(key)) % SLOT_COUNT
