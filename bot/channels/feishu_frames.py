"""The frames of Feishu's long connection (issue 12): protobuf ``pbbp2.Frame``, encoded and decoded here by
hand so the bot needs neither ``protobuf`` nor ``lark-oapi``. The message, as ``lark-oapi`` defines it::

    message Header { required string key = 1; required string value = 2; }
    message Frame {
      required uint64 SeqID = 1;  required uint64 LogID = 2;
      required int32 service = 3; required int32 method = 4;   // method: 0 control (ping/pong), 1 data
      repeated Header headers = 5;
      optional string payload_encoding = 6; optional string payload_type = 7;
      optional bytes payload = 8;  optional string LogIDNew = 9;
    }
"""

from __future__ import annotations

from dataclasses import dataclass, field

CONTROL, DATA = 0, 1
_VARINT, _BYTES = 0, 2


@dataclass
class Frame:
    seq_id: int = 0
    log_id: int = 0
    service: int = 0
    method: int = CONTROL
    headers: list[tuple[str, str]] = field(default_factory=list)
    payload_encoding: str = ""
    payload_type: str = ""
    payload: bytes = b""
    log_id_new: str = ""

    def header(self, key: str, default: str = "") -> str:
        return next((value for name, value in self.headers if name == key), default)

    def with_header(self, key: str, value: str) -> Frame:
        """A copy with one header set (replacing it if present)."""
        headers = [(name, old) for name, old in self.headers if name != key] + [(key, value)]
        return Frame(
            self.seq_id,
            self.log_id,
            self.service,
            self.method,
            headers,
            self.payload_encoding,
            self.payload_type,
            self.payload,
            self.log_id_new,
        )

    def encode(self) -> bytes:
        out = bytearray()
        for number, value in ((1, self.seq_id), (2, self.log_id), (3, self.service), (4, self.method)):
            _key(out, number, _VARINT)
            _varint(out, value if value >= 0 else value + (1 << 64))
        for name, value in self.headers:
            inner = bytearray()
            _string(inner, 1, name.encode())
            _string(inner, 2, value.encode())
            _string(out, 5, bytes(inner))
        for number, text in ((6, self.payload_encoding), (7, self.payload_type)):
            if text:
                _string(out, number, text.encode())
        if self.payload:
            _string(out, 8, self.payload)
        if self.log_id_new:
            _string(out, 9, self.log_id_new.encode())
        return bytes(out)

    @classmethod
    def decode(cls, data: bytes) -> Frame:
        """A frame from its bytes; unknown fields are skipped, a truncated frame is a ``ValueError``."""
        frame = cls()
        for number, value in _fields(data):
            if number in (1, 2, 3, 4) and isinstance(value, int):
                if number in (3, 4) and value >= 1 << 63:
                    value -= 1 << 64
                setattr(frame, ("seq_id", "log_id", "service", "method")[number - 1], value)
            elif number == 5 and isinstance(value, bytes):
                parts = {n: v for n, v in _fields(value) if isinstance(v, bytes)}
                frame.headers.append((parts.get(1, b"").decode(), parts.get(2, b"").decode()))
            elif number == 6 and isinstance(value, bytes):
                frame.payload_encoding = value.decode()
            elif number == 7 and isinstance(value, bytes):
                frame.payload_type = value.decode()
            elif number == 8 and isinstance(value, bytes):
                frame.payload = value
            elif number == 9 and isinstance(value, bytes):
                frame.log_id_new = value.decode()
        return frame


def _varint(out: bytearray, value: int) -> None:
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return


def _key(out: bytearray, number: int, wire: int) -> None:
    _varint(out, (number << 3) | wire)


def _string(out: bytearray, number: int, value: bytes) -> None:
    _key(out, number, _BYTES)
    _varint(out, len(value))
    out += value


def _read_varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if at >= len(data) or shift > 63:
            raise ValueError("truncated or malformed varint in a Feishu frame")
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


def _fields(data: bytes) -> list[tuple[int, int | bytes]]:
    fields: list[tuple[int, int | bytes]] = []
    at = 0
    while at < len(data):
        key, at = _read_varint(data, at)
        number, wire = key >> 3, key & 7
        if wire == _VARINT:
            value, at = _read_varint(data, at)
            fields.append((number, value))
        elif wire == _BYTES:
            length, at = _read_varint(data, at)
            if at + length > len(data):
                raise ValueError("truncated field in a Feishu frame")
            fields.append((number, data[at : at + length]))
            at += length
        elif wire == 1:  # 64-bit
            at += 8
        elif wire == 5:  # 32-bit
            at += 4
        else:
            raise ValueError(f"unsupported wire type {wire} in a Feishu frame")
    return fields
