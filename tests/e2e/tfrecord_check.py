"""Independent TFRecord decoder: checks every record of TensorBoard event files.

Usage: tfrecord_check.py FILE_OR_DIR...  (directories are searched for events.out.tfevents.*)
Exit 0 when every record's framing and both masked CRC32Cs are right and each file's first record
is an Event with file_version "brain.Event:2"; 1 on the first bad record (named with its offset);
2 when no event file is found. Shares nothing with the C++ writer: the CRC comes from crcmod
(Debian: python3-crcmod) and the first Event is decoded by hand from the protobuf wire format.
"""
import os
import struct
import sys

import crcmod.predefined

crc32c = crcmod.predefined.mkCrcFun("crc-32c")


def masked(data: bytes) -> int:
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def file_version(event: bytes) -> str:
    """Field 3 (file_version, length-delimited) of an Event, or '' when absent."""
    i = 0
    while i < len(event):
        key, i = varint(event, i)
        field, wire = key >> 3, key & 7
        if wire == 0:
            _, i = varint(event, i)
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        elif wire == 2:
            n, i = varint(event, i)
            if field == 3:
                return event[i:i + n].decode()
            i += n
        else:
            raise ValueError(f"wire type {wire}")
    return ""


def varint(b: bytes, i: int):
    shift = value = 0
    while True:
        byte = b[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, i


def check_file(path: str) -> int:
    data = open(path, "rb").read()
    off = n = 0
    while off < len(data):
        if len(data) - off < 12:
            raise ValueError(f"{path}: truncated header at byte {off}")
        header = data[off:off + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", data[off + 8:off + 12])
        if length_crc != masked(header):
            raise ValueError(f"{path}: record {n} at byte {off}: length CRC mismatch")
        body = data[off + 12:off + 12 + length]
        if len(body) != length or len(data) < off + 16 + length:
            raise ValueError(f"{path}: record {n} at byte {off}: truncated data")
        (data_crc,) = struct.unpack("<I", data[off + 12 + length:off + 16 + length])
        if data_crc != masked(body):
            raise ValueError(f"{path}: record {n} at byte {off}: data CRC mismatch")
        if n == 0 and file_version(body) != "brain.Event:2":
            raise ValueError(f"{path}: first record is not file_version brain.Event:2")
        off += 16 + length
        n += 1
    if n == 0:
        raise ValueError(f"{path}: no records")
    return n


def main(argv):
    files = []
    for arg in argv:
        if os.path.isdir(arg):
            for root, _, names in os.walk(arg):
                files += [os.path.join(root, f) for f in names if f.startswith("events.out.tfevents.")]
        elif os.path.isfile(arg):
            files.append(arg)
    if not files:
        print("tfrecord_check: no event files found", file=sys.stderr)
        return 2
    total = 0
    for f in sorted(files):
        try:
            total += check_file(f)
        except (ValueError, IndexError, UnicodeDecodeError) as e:
            print(f"tfrecord_check: {e}", file=sys.stderr)
            return 1
    print(f"tfrecord_check: {len(files)} files, {total} records, every CRC right")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
