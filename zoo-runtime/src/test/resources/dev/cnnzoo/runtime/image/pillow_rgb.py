# For each pair of arguments IN OUT: Pillow's convert("RGB") of IN, as raw bytes (row-major, RGB) to OUT;
# prints IN's mode and Adobe transform. "--make-rgb-icc PATH" first writes an RGB JPEG with lcms's sRGB
# profile embedded.
import io
import sys

from PIL import Image, ImageCms

args = sys.argv[1:]
if args[:1] == ["--make-rgb-icc"]:
    im = Image.new("RGB", (64, 48))
    im.putdata([((4 * i) % 256, (5 * j) % 256, (i + j) * 2 % 256) for j in range(48) for i in range(64)])
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    im.save(args[1], quality=95, icc_profile=profile)
    args = args[2:]
for src, dst in zip(args[0::2], args[1::2]):
    im = Image.open(src)
    print(src, im.mode, im.info.get("adobe_transform"), len(im.info.get("icc_profile") or b""))
    with open(dst, "wb") as f:
        f.write(im.convert("RGB").tobytes())
