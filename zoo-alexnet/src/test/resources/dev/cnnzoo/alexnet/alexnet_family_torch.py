# The AlexNet family in PyTorch with seeded random weights: torchvision's alexnet, and the paper's
# AlexNet (two-GPU split) and ZF Net written here independently from their tables. Writes each
# state dict and a batch with PyTorch's logits as safetensors into OUT_DIR.
# Usage: alexnet_family_torch.py OUT_DIR COUNTERPART   (alexnet-tv's torchvision counterpart as JSON, from the zoo)
import json
import os

import torch
import torch.nn.functional as F
from torch import nn

out_dir, torchvision_alexnet = sys.argv[1], json.loads(sys.argv[2])
torch.manual_seed(2012)


class AlexNet2012(nn.Module):
    """Table 13-2 of Géron's Hands-On Machine Learning (1st ed.) with the pool after C7, split over two GPUs (groups=2) as in §3.2."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 96, 11, stride=4)
        self.c3 = nn.Conv2d(96, 256, 5, padding=2, groups=2)
        self.c5 = nn.Conv2d(256, 384, 3, padding=1)
        self.c6 = nn.Conv2d(384, 384, 3, padding=1, groups=2)
        self.c7 = nn.Conv2d(384, 256, 3, padding=1, groups=2)
        self.f9 = nn.Linear(256 * 6 * 6, 4096)
        self.f10 = nn.Linear(4096, 4096)
        self.out = nn.Linear(4096, 1000)
        # PyTorch's LRN divides alpha by the window size: the paper's n = 5, alpha = 1e-4 (section 3.3).
        self.lrn = nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=1.0)

    def forward(self, x):
        x = F.max_pool2d(self.lrn(F.relu(self.c1(x))), 3, 2)
        x = F.max_pool2d(self.lrn(F.relu(self.c3(x))), 3, 2)
        x = F.relu(self.c6(F.relu(self.c5(x))))
        x = F.max_pool2d(F.relu(self.c7(x)), 3, 2)
        assert x.shape[1:] == (256, 6, 6)
        x = F.relu(self.f10(F.relu(self.f9(torch.flatten(x, 1)))))
        return self.out(x)


class ZfNet(nn.Module):
    """Zeiler and Fergus's architecture figure: sizes 110, 55, 26, 13, 13, 13, 13, 6."""

    def __init__(self):
        super().__init__()
        self.layer1 = nn.Conv2d(3, 96, 7, stride=2, padding=1)
        self.layer2 = nn.Conv2d(96, 256, 5, stride=2)
        self.layer3 = nn.Conv2d(256, 384, 3, padding=1)
        self.layer4 = nn.Conv2d(384, 384, 3, padding=1)
        self.layer5 = nn.Conv2d(384, 256, 3, padding=1)
        self.layer6 = nn.Linear(256 * 6 * 6, 4096)
        self.layer7 = nn.Linear(4096, 4096)
        self.output = nn.Linear(4096, 1000)
        self.lrn = nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=1.0)

    def forward(self, x):
        def pool(t):
            return F.max_pool2d(t, 3, 2, ceil_mode=True)

        x = F.relu(self.layer1(x))
        assert x.shape[2:] == (110, 110)
        x = self.lrn(pool(x))
        x = F.relu(self.layer2(x))
        assert x.shape[2:] == (26, 26)
        x = self.lrn(pool(x))
        x = F.relu(self.layer4(F.relu(self.layer3(x))))
        x = pool(F.relu(self.layer5(x)))
        assert x.shape[2:] == (6, 6)
        x = F.relu(self.layer7(F.relu(self.layer6(torch.flatten(x, 1)))))
        return self.output(x)


def count(model):
    return sum(p.numel() for p in model.parameters())


def save(name, model, batches):
    model.eval()
    tensors = {}
    with torch.no_grad():
        for key, batch in batches.items():
            tensors["input" + key] = batch
            tensors["logits" + key] = model(batch)
    save_safetensors(os.path.join(out_dir, name + ".safetensors"), torch_state_dict(model), {"format": "pt"})
    save_safetensors(os.path.join(out_dir, name + "-batch.safetensors"), tensors)
    print(name, "parameters", count(model))


tv = counterpart(torchvision_alexnet)
# 224 leaves 6x6 maps before the adaptive pooling; 256 leaves 7x7, which it pools to 6x6 in overlapping bins.
save("alexnet-tv", tv, {"224": torch.rand(2, 3, 224, 224) * 2 - 1, "256": torch.rand(2, 3, 256, 256) * 2 - 1})

# Raw-pixel scale (the paper subtracted only the mean image), so the LRN's normaliser is far from 1.
save("alexnet-groups2", AlexNet2012(), {"": torch.rand(2, 3, 227, 227) * 510 - 255})
save("zfnet", ZfNet(), {"": torch.rand(2, 3, 224, 224) * 510 - 255})
