"""Writes the CMYK JPEG fixtures of ImageFilesTest with Pillow (run once; the files are committed).

patches-cmyk.jpg      four flat 16x16 ink patches, Adobe APP14 transform 0 (Pillow's CMYK JPEG)
patches-cmyk-icc.jpg  the same with an embedded CMYK ICC profile (a minimal v2 'prtr' profile whose
                      A2B0 table maps inks to Lab: enough for a decoder that applies profiles to
                      convert with it, which Pillow's convert('RGB') does not)

Usage: /usr/bin/python3 make_cmyk_fixtures.py DIR
"""
import struct
import sys

from PIL import Image

PATCHES = [(0, 255, 255, 0), (255, 0, 255, 0), (0, 0, 0, 128), (64, 128, 192, 32)]


def patches():
    im = Image.new("CMYK", (32, 32))
    for i, ink in enumerate(PATCHES):
        x, y = 16 * (i % 2), 16 * (i // 2)
        im.paste(ink, (x, y, x + 16, y + 16))
    return im


def s15(v):
    return struct.pack(">i", int(round(v * 65536)))


def cmyk_profile():
    """A minimal ICC v2 output profile, CMYK to Lab through a 2-point lut8 (mft1) A2B0 table."""
    def tag_desc(text):
        t = text.encode() + b"\0"
        return b"desc" + b"\0" * 4 + struct.pack(">I", len(t)) + t + b"\0" * 8 + b"\0" * 3 + b"\0" * 67

    def tag_xyz(x, y, z):
        return b"XYZ " + b"\0" * 4 + s15(x) + s15(y) + s15(z)

    def tag_text(text):
        return b"text" + b"\0" * 4 + text.encode() + b"\0"

    clut = bytearray()
    for c in (0, 1):
        for m in (0, 1):
            for yy in (0, 1):
                for k in (0, 1):
                    # Ink coverage darkens (L) and tints (a, b) roughly as a press would.
                    light = (1 - k) * (1 - 0.3 * c) * (1 - 0.3 * m) * (1 - 0.1 * yy)
                    a = 128 + 60 * m - 40 * c
                    b = 128 + 70 * yy - 50 * c
                    clut += bytes([int(255 * light), int(a), int(b)])
    identity = bytes(range(256))
    matrix = b"".join(s15(1.0 if i % 4 == 0 else 0.0) for i in range(9))
    a2b0 = b"mft1" + b"\0" * 4 + bytes([4, 3, 2, 0]) + matrix + identity * 4 + bytes(clut) + identity * 3

    tags = [(b"desc", tag_desc("cnn-zoo test CMYK")), (b"wtpt", tag_xyz(0.9642, 1.0, 0.8249)),
            (b"cprt", tag_text("public domain")), (b"A2B0", a2b0)]
    offset = 128 + 4 + 12 * len(tags)
    table = struct.pack(">I", len(tags))
    data = b""
    for sig, body in tags:
        while (offset + len(data)) % 4:
            data += b"\0"
        table += sig + struct.pack(">II", offset + len(data), len(body))
        data += body
    size = 128 + len(table) + len(data)
    header = (struct.pack(">I", size) + b"\0" * 4 + struct.pack(">I", 0x02100000) + b"prtr" + b"CMYK" + b"Lab "
              + b"\0" * 12 + b"acsp" + b"\0" * 4 + b"\0" * 4 + b"\0" * 4 + b"\0" * 4 + b"\0" * 8 + b"\0" * 4
              + s15(0.9642) + s15(1.0) + s15(0.8249) + b"\0" * 4 + b"\0" * 16 + b"\0" * 28)
    assert len(header) == 128
    return header + table + data


def main(out):
    im = patches()
    im.save(f"{out}/patches-cmyk.jpg", quality=95)
    im.save(f"{out}/patches-cmyk-icc.jpg", quality=95, icc_profile=cmyk_profile())


if __name__ == "__main__":
    main(sys.argv[1])
