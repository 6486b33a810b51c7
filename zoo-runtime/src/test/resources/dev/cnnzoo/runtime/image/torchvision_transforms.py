# torchvision 0.14's evaluation transforms on image files, for the zoo's ImageTransform to match.
# For each case (file, resize, crop, channels, interpolation, mean, std) two results are written:
#   <name>.tensor: ToTensor first, then Resize(resize, antialias=True), CenterCrop(crop), Normalize on
#                  the float tensor (colour to grey, where asked, as 0.299 R + 0.587 G + 0.114 B in float);
#   <name>.pil:    the classic recipe on the PIL image, Resize (Pillow, 8-bit), CenterCrop, ToTensor,
#                  Normalize (grey by Pillow's convert("L")).
# Usage: torchvision_transforms.py CASES_JSON OUT.safetensors
import json

import torch
import torchvision.transforms as T
from PIL import Image

cases = json.loads(open(sys.argv[1]).read())
out = {}
for c in cases:
    mode = {"bilinear": T.InterpolationMode.BILINEAR, "bicubic": T.InterpolationMode.BICUBIC}[c["interpolation"]]
    img = Image.open(c["file"])
    rgb = img.convert("RGB")
    x = T.functional.pil_to_tensor(rgb).float().div(255)
    if c["channels"] == 1:
        if img.mode in ("L", "I;16", "I"):
            x = x[:1]
        else:
            x = (0.299 * x[0] + 0.587 * x[1] + 0.114 * x[2]).unsqueeze(0)
    tensor_path = T.Compose([T.Resize(c["resize"], interpolation=mode, antialias=True), T.CenterCrop(c["crop"]),
                             T.Normalize(c["mean"], c["std"])])
    out[c["name"] + ".tensor"] = tensor_path(x)
    pil_path = T.Compose([T.Resize(c["resize"], interpolation=mode), T.CenterCrop(c["crop"]), T.ToTensor(),
                          T.Normalize(c["mean"], c["std"])])
    out[c["name"] + ".pil"] = pil_path(img.convert("RGB" if c["channels"] == 3 else "L"))
save_safetensors(sys.argv[2], out)
print("cases", len(cases))
