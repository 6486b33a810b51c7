# Helpers prepended to every test script: safetensors files without the safetensors package
# (Debian has none), in the layout the format specifies.
import json
import struct
import sys

import numpy as np

_DTYPES = {np.dtype("float32"): "F32", np.dtype("float64"): "F64", np.dtype("int64"): "I64", np.dtype("int32"): "I32"}
_NUMPY = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32, "F16": np.float16, "U8": np.uint8}


def save_safetensors(path, tensors, metadata=None):
    """Writes a dict of name -> tensor (torch or numpy) as safetensors."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        a = t.detach().cpu().numpy() if hasattr(t, "detach") else np.asarray(t)
        a = np.ascontiguousarray(a)
        blob = a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": _DTYPES[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    if metadata:
        header["__metadata__"] = metadata
    raw = json.dumps(header).encode("utf-8")
    raw += b" " * ((8 - len(raw) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for blob in blobs:
            f.write(blob)


def load_safetensors(path):
    """Reads a safetensors file into a dict of name -> numpy array."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        out[name] = np.frombuffer(data[begin:end], dtype=_NUMPY[info["dtype"]]).reshape(info["shape"]).copy()
    return out


def torch_state_dict(module):
    """A module's state dict without torchvision's num_batches_tracked counters."""
    return {k: v for k, v in module.state_dict().items() if not k.endswith("num_batches_tracked")}


def fashion_cnn():
    """The Fashion-MNIST CNN of Géron's Hands-On Machine Learning (2nd ed., ch. 14) in PyTorch, named as the zoo names it. Its forward
    takes optional dropout masks (zeros and 1/(1-p)) so training-mode passes can be replayed."""
    import torch
    from torch import nn

    class FashionCnn(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 64, 7, padding="same")
            self.conv2 = nn.Conv2d(64, 128, 3, padding="same")
            self.conv3 = nn.Conv2d(128, 128, 3, padding="same")
            self.conv4 = nn.Conv2d(128, 256, 3, padding="same")
            self.conv5 = nn.Conv2d(256, 256, 3, padding="same")
            self.fc1 = nn.Linear(256 * 3 * 3, 128)
            self.fc2 = nn.Linear(128, 64)
            self.fc3 = nn.Linear(64, 10)

        def forward(self, x, mask1=None, mask2=None):
            relu, pool = torch.relu, nn.functional.max_pool2d
            x = pool(relu(self.conv1(x)), 2)
            x = pool(relu(self.conv3(relu(self.conv2(x)))), 2)
            x = pool(relu(self.conv5(relu(self.conv4(x)))), 2)
            x = relu(self.fc1(torch.flatten(x, 1)))
            x = x * mask1 if mask1 is not None else x
            x = relu(self.fc2(x))
            x = x * mask2 if mask2 is not None else x
            return self.fc3(x)

    return FashionCnn()


def counterpart(spec):
    """The network a zoo model names as its counterpart in another library, built with random
    weights: spec is one entry of the model's metadata "counterparts" ({"library": "torchvision",
    "name": "googlenet", "kwargs": {...}, "input": [3, 224, 224]}), which the tests pass as JSON
    (dev.cnnzoo.testkit.Counterparts), so no script keeps a table of constructors."""
    library, name, kwargs = spec["library"], spec["name"], spec["kwargs"]
    if library == "torchvision":
        import torchvision
        return getattr(torchvision.models, name)(**kwargs)
    if library == "timm":
        import timm
        return timm.create_model(name, **kwargs)
    raise SystemExit("no PyTorch builder for a %s counterpart (%s)" % (library, name))
