# Reference ResNets in PyTorch with seeded random weights, for the zoo's conformance test.
# torchvision's resnet18/50/152 as they are; SE-ResNet-50 assembled from torchvision's Bottleneck
# and torchvision.ops.SqueezeExcitation; pre-activation ResNets written here after the authors'
# Torch code (KaimingHe/resnet-1k-layers). For each network NAME it writes NAME.safetensors (the
# state dict) and NAME-io.safetensors (a batch "input" and the network's "logits").
# Usage: resnet_torch.py OUT_DIR COUNTERPARTS
#   COUNTERPARTS: JSON, zoo id -> its torchvision counterpart (resnet18, resnet50, resnet152), from the zoo
import json
import os
import sys

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet
from torchvision.ops import SqueezeExcitation

out_dir, counterparts = sys.argv[1], json.loads(sys.argv[2])


def randomise_batch_norm(model):
    """Batch norm with non-trivial statistics and affine terms, so the comparison exercises them."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)


def damp_residual_branches(model):
    """Scales each post-activation unit's last batch norm by 0.2, as training leaves the branches
    small next to the shortcut; at full scale resnet152's random logits grow to about 1e11."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, Bottleneck):
                m.bn3.weight.mul_(0.2)
            elif isinstance(m, BasicBlock):
                m.bn2.weight.mul_(0.2)


def save(name, model, batch, weights_name=None):
    model.eval()
    with torch.no_grad():
        logits = model(batch)
    assert torch.isfinite(logits).all(), name
    if weights_name is None:
        save_safetensors(os.path.join(out_dir, name + ".safetensors"), torch_state_dict(model), {"format": "pt"})
    save_safetensors(os.path.join(out_dir, name + "-io.safetensors"), {"input": batch, "logits": logits})
    print(name, "parameters", sum(p.numel() for p in model.parameters()))


class SEBottleneck(Bottleneck):
    """torchvision's bottleneck with Hu et al.'s SE block on the residual branch, before the sum."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        maps = self.conv3.out_channels
        self.se = SqueezeExcitation(maps, maps // 16)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.se(self.bn3(self.conv3(out)))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class PreActUnit(nn.Module):
    """He et al. 2016's unit: BN-ReLU before each convolution; where the shape changes both paths
    take the pre-activated input. `activated`: the input already went through BN-ReLU (the stem's)."""

    def __init__(self, inplanes, width, stride, bottleneck, activated, zero_pad):
        super().__init__()
        self.out = width * 4 if bottleneck else width
        self.stride = stride
        self.bn1 = None if activated else nn.BatchNorm2d(inplanes)
        if bottleneck:  # the authors stride in the first 1x1
            self.convs = [nn.Conv2d(inplanes, width, 1, stride, bias=False),
                          nn.Conv2d(width, width, 3, 1, 1, bias=False),
                          nn.Conv2d(width, self.out, 1, bias=False)]
        else:
            self.convs = [nn.Conv2d(inplanes, width, 3, stride, 1, bias=False),
                          nn.Conv2d(width, width, 3, 1, 1, bias=False)]
        for i, c in enumerate(self.convs):
            setattr(self, "conv%d" % (i + 1), c)
            if i > 0:
                setattr(self, "bn%d" % (i + 1), nn.BatchNorm2d(c.in_channels))
        self.changes_shape = stride != 1 or inplanes != self.out
        self.zero_pad = zero_pad
        if self.changes_shape and not zero_pad:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, self.out, 1, stride, bias=False))

    def forward(self, x):
        a = x if self.bn1 is None else F.relu(self.bn1(x))
        if not self.changes_shape:
            shortcut = x
        elif self.zero_pad:
            sub = a[:, :, ::self.stride, ::self.stride]
            shortcut = F.pad(sub, (0, 0, 0, 0, 0, self.out - sub.shape[1]))
        else:
            shortcut = self.downsample(a)
        y = self.conv1(a)
        for i in range(1, len(self.convs)):
            y = self.convs[i](F.relu(getattr(self, "bn%d" % (i + 1))(y)))
        return y + shortcut


class PreActResNet(nn.Module):
    def __init__(self, units, widths, bottleneck, cifar, zero_pad=False, classes=1000):
        super().__init__()
        if cifar:
            self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        else:
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.conv1.out_channels)
        self.maxpool = nn.Identity() if cifar else nn.MaxPool2d(3, 2, 1)
        inplanes = self.conv1.out_channels
        for s, (n, w) in enumerate(zip(units, widths)):
            layer = []
            for j in range(n):
                unit = PreActUnit(inplanes, w, 2 if s > 0 and j == 0 else 1, bottleneck, s == 0 and j == 0, zero_pad)
                layer.append(unit)
                inplanes = unit.out
            setattr(self, "layer%d" % (s + 1), nn.Sequential(*layer))
        self.stages = len(units)
        self.post_bn = nn.BatchNorm2d(inplanes)
        self.fc = nn.Linear(inplanes, classes)

    def forward(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        for s in range(self.stages):
            x = getattr(self, "layer%d" % (s + 1))(x)
        x = F.relu(self.post_bn(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def imagenet_batch():
    return torch.rand(2, 3, 224, 224) * 2 - 1


def cifar_batch():
    return torch.rand(2, 3, 32, 32) * 2 - 1


for name, spec in counterparts.items():
    torch.manual_seed(1000)
    model = counterpart(spec)
    randomise_batch_norm(model)
    damp_residual_branches(model)
    save(name, model, imagenet_batch())
    if name == "resnet50":
        # The paper's form of the same weights: the first 1x1 of each downsampling unit strides.
        for layer in [model.layer2, model.layer3, model.layer4]:
            layer[0].conv1.stride, layer[0].conv2.stride = (2, 2), (1, 1)
        save("resnet50-stride1x1", model, imagenet_batch(), weights_name="resnet50")

torch.manual_seed(1001)
model = ResNet(SEBottleneck, [3, 4, 6, 3])
randomise_batch_norm(model)
damp_residual_branches(model)
save("se-resnet50", model, imagenet_batch())

torch.manual_seed(1002)
model = PreActResNet([2, 2, 2, 2], [64, 128, 256, 512], bottleneck=False, cifar=False)
randomise_batch_norm(model)
save("preact-resnet18", model, imagenet_batch())

torch.manual_seed(1003)
model = PreActResNet([18, 18, 18], [16, 32, 64], bottleneck=False, cifar=True, zero_pad=True, classes=10)
randomise_batch_norm(model)
save("preact-resnet110", model, cifar_batch())

torch.manual_seed(1004)
model = PreActResNet([18, 18, 18], [16, 32, 64], bottleneck=True, cifar=True, classes=10)
randomise_batch_norm(model)
save("preact-resnet164", model, cifar_batch())
