"""Zip container level of the Excel writer: read parts, copy untouched parts as raw compressed bytes.

The standard library's zipfile can read a package but cannot copy an entry without
decompressing and recompressing it. Copying the stored bytes verbatim is both the fastest
way to rewrite a 17 MB workbook and the strongest guarantee that parts we do not own stay
byte-identical, so this module keeps each entry's local record (header, data, descriptor)
and central-directory record as they are and only patches the offset.
"""

from __future__ import annotations

import struct
import time
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

_CD_SIG = 0x02014B50
_LOCAL_SIG = 0x04034B50
_EOCD_SIG = 0x06054B50
_CD_FIXED = struct.Struct("<IHHHHHHIIIHHHHHII")  # 46 bytes
_LOCAL_FIXED = struct.Struct("<IHHHHHIIIHH")  # 30 bytes
_EOCD = struct.Struct("<IHHHHIIH")  # 22 bytes
_U32 = 0xFFFFFFFF


class ZipFormatError(Exception):
    """The container is not a zip we can rewrite safely (damaged, multi-disk, >4 GB)."""


def part_key(name: str) -> str:
    """OPC part names compare case-insensitively; some writers use backslashes or a leading '/'."""
    return name.replace("\\", "/").lstrip("/").lower()


@dataclass(frozen=True)
class Entry:
    """One stored entry: where its raw bytes sit in the source file and its central record."""

    name: str  # as stored in the archive
    info: zipfile.ZipInfo
    start: int  # offset of the local header
    end: int  # end of data (+ data descriptor): the raw span to copy
    cd_record: bytes  # raw central-directory record

    @property
    def key(self) -> str:
        return part_key(self.name)


class ZipSource:
    """A zip opened for reading parts (CRC-checked via zipfile) and for raw copying."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: BinaryIO = open(path, "rb")  # noqa: SIM115 - closed in close()
        try:
            self.zf = zipfile.ZipFile(self._fh)
            self.comment = self.zf.comment
            self.entries = self._scan()
        except BaseException:
            self._fh.close()
            raise
        self.by_key: dict[str, Entry] = {}
        for entry in self.entries:
            if entry.name.endswith("/"):
                continue  # directory entries carry no part
            if entry.key in self.by_key:
                raise ZipFormatError(f"the archive holds two parts named {entry.name!r}")
            self.by_key[entry.key] = entry

    def _scan(self) -> list[Entry]:
        infos = self.zf.infolist()
        start_dir = int(getattr(self.zf, "start_dir", -1))
        size = self._fh.seek(0, 2)
        if start_dir < 0:
            raise ZipFormatError("cannot locate the central directory")
        self._fh.seek(start_dir)
        raw_cd = self._fh.read(size - start_dir)
        records: list[bytes] = []
        pos = 0
        for _ in infos:
            if raw_cd[pos : pos + 4] != struct.pack("<I", _CD_SIG):
                raise ZipFormatError("central directory is damaged")
            fields = _CD_FIXED.unpack_from(raw_cd, pos)
            length = _CD_FIXED.size + fields[10] + fields[11] + fields[12]
            records.append(raw_cd[pos : pos + length])
            pos += length
        offsets = sorted({i.header_offset for i in infos} | {start_dir})
        following = {a: b for a, b in zip(offsets, offsets[1:], strict=False)}
        entries = []
        for info, record in zip(infos, records, strict=True):
            end = following.get(info.header_offset, start_dir)
            self._fh.seek(info.header_offset)
            head = self._fh.read(_LOCAL_FIXED.size)
            if len(head) < _LOCAL_FIXED.size or _LOCAL_FIXED.unpack(head)[0] != _LOCAL_SIG:
                raise ZipFormatError(f"entry {info.filename!r} is damaged")
            name_len, extra_len = _LOCAL_FIXED.unpack(head)[9:11]
            data_end = info.header_offset + _LOCAL_FIXED.size + name_len + extra_len + info.compress_size
            if data_end > end:
                raise ZipFormatError(f"entry {info.filename!r} overlaps the next one")
            entries.append(Entry(info.filename, info, info.header_offset, end, record))
        return entries

    def read(self, key: str) -> bytes:
        """Decompressed content of a part (raises KeyError if absent, BadZipFile on CRC errors)."""
        return self.zf.read(self.by_key[key].info)

    def raw(self, entry: Entry) -> bytes:
        self._fh.seek(entry.start)
        return self._fh.read(entry.end - entry.start)

    def close(self) -> None:
        self.zf.close()
        self._fh.close()

    def __enter__(self) -> ZipSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _dos_time(now: float | None = None) -> tuple[int, int]:
    t = time.localtime(now)
    year = max(t.tm_year, 1980)
    return (t.tm_hour << 11) | (t.tm_min << 5) | (t.tm_sec // 2), ((year - 1980) << 9) | (t.tm_mon << 5) | t.tm_mday


def _patch_offset(record: bytes, offset: int) -> bytes:
    """Rewrite the local-header offset of a central record (in its zip64 extra when it lives there)."""
    fields = _CD_FIXED.unpack_from(record, 0)
    if fields[16] != _U32:
        if offset >= _U32:
            raise ZipFormatError("workbook too large (over 4 GB)")
        return record[:42] + struct.pack("<I", offset) + record[46:]
    name_len, extra_len = fields[10], fields[11]
    extra_start = _CD_FIXED.size + name_len
    extra = bytearray(record[extra_start : extra_start + extra_len])
    pos = 0
    while pos + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, pos)
        if tag == 1:
            field_pos = pos + 4
            if fields[9] == _U32:  # uncompressed size
                field_pos += 8
            if fields[8] == _U32:  # compressed size
                field_pos += 8
            struct.pack_into("<Q", extra, field_pos, offset)
            return record[:extra_start] + bytes(extra) + record[extra_start + extra_len :]
        pos += 4 + size
    raise ZipFormatError("zip64 record without its extra field")


class ZipWriter:
    """Writes a zip: raw copies of source entries and freshly deflated new parts."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.pos = 0
        self.central: list[bytes] = []
        self.dos_time, self.dos_date = _dos_time()

    def _emit(self, data: bytes) -> None:
        self.out.write(data)
        self.pos += len(data)

    def copy_raw(self, source: ZipSource, entry: Entry) -> None:
        """The stored entry verbatim: local header, compressed data and descriptor."""
        self.central.append(_patch_offset(entry.cd_record, self.pos))
        self._emit(source.raw(entry))

    def write(self, name: str, data: bytes, level: int = 6) -> None:
        """A new part, deflated (stored when tiny)."""
        try:
            encoded, flags = name.encode("ascii"), 0
        except UnicodeEncodeError:
            encoded, flags = name.encode("utf-8"), 0x800
        crc = zlib.crc32(data)
        if len(data) < 64:
            method, payload = zipfile.ZIP_STORED, data
        else:
            compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
            method, payload = zipfile.ZIP_DEFLATED, compressor.compress(data) + compressor.flush()
        if len(data) >= _U32 or self.pos >= _U32:
            raise ZipFormatError("workbook too large (over 4 GB)")
        offset = self.pos
        header = _LOCAL_FIXED.pack(_LOCAL_SIG, 20, flags, method, self.dos_time, self.dos_date, crc, len(payload), len(data), len(encoded), 0)
        self._emit(header + encoded)
        self._emit(payload)
        self.central.append(
            _CD_FIXED.pack(_CD_SIG, 0x031E, 20, flags, method, self.dos_time, self.dos_date, crc, len(payload), len(data), len(encoded), 0, 0, 0, 0, 0o100644 << 16, offset)
            + encoded
        )

    def close(self, comment: bytes = b"") -> None:
        """Central directory and end record."""
        start = self.pos
        for record in self.central:
            self._emit(record)
        count = len(self.central)
        if count > 0xFFFF or start >= _U32:
            raise ZipFormatError("workbook too large for a plain zip")
        self._emit(_EOCD.pack(_EOCD_SIG, 0, 0, count, count, self.pos - start, start, len(comment)) + comment)
