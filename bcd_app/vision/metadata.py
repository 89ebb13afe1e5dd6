"""Lossless metadata stripping of a JPEG: its compressed pixels kept byte for byte, every EXIF, XMP, IPTC,
maker-note and comment segment removed (GPS with them), only the orientation written back."""

import re
import struct

from PIL import Image

from ..errors import ImageRejected

SOI, EOI, SOS = b"\xff\xd8", 0xD9, 0xDA
# Segments a decoder needs (tables, frame, restart interval) and colour information worth keeping: JFIF
# (APP0), an ICC profile (APP2 starting ICC_PROFILE) and Adobe's colour transform (APP14).
_KEPT_APP = {0xE0: b"", 0xE2: b"ICC_PROFILE\x00", 0xEE: b"Adobe"}
# Inside entropy-coded data 0xFF is followed by 0x00 (stuffing) or a restart marker; anything else is a marker.
_NEXT_MARKER = re.compile(rb"\xff(?![\x00\xd0-\xd7\xff])")
EXIF_ORIENTATION = 0x0112


def _exif_orientation_segment(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = orientation
    payload = exif.tobytes()
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def strip_jpeg(data: bytes, orientation: int) -> bytes:
    """The same JPEG with no metadata but its orientation (so it still displays upright); anything after its
    end of image (an appended file, a second picture) is dropped."""
    if not data.startswith(SOI):
        raise ImageRejected("The file is not a JPEG image.", code="not_an_image")
    out = [SOI]
    if orientation != 1:
        out.append(_exif_orientation_segment(orientation))
    position = 2
    try:
        while True:
            while data[position + 1] == 0xFF:  # fill bytes before a marker
                position += 1
            marker = data[position + 1]
            if marker == EOI:
                out.append(data[position : position + 2])
                return b"".join(out)
            length = struct.unpack(">H", data[position + 2 : position + 4])[0]
            segment_end = position + 2 + length
            segment = data[position:segment_end]
            if marker == SOS:
                scan_end = _NEXT_MARKER.search(data, segment_end).start()
                out.append(data[position:scan_end])
                position = scan_end
                continue
            is_app = 0xE0 <= marker <= 0xEF
            if marker != 0xFE and (not is_app or (marker in _KEPT_APP and segment[4:].startswith(_KEPT_APP[marker]))):
                out.append(segment)
            position = segment_end
    except (IndexError, struct.error, AttributeError):
        raise ImageRejected("The image file is damaged or truncated.", code="truncated_image") from None
