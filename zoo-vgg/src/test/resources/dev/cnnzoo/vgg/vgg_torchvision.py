# torchvision's VGG models with seeded random weights, batch-norm statistics and affine parameters
# randomised too; writes each state dict and a batch with torchvision's logits as safetensors.
# Usage: vgg_torchvision.py OUT_DIR COUNTERPARTS   (JSON: zoo id -> its torchvision counterpart, from the zoo)
import json
import os

import torch
import torchvision
from torch import nn

out_dir = sys.argv[1]
for index, (zoo_id, spec) in enumerate(json.loads(sys.argv[2]).items()):
    torch.manual_seed(1409 + index)
    model = counterpart(spec)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
    model.eval()
    batch = torch.rand(2, *spec["input"]) * 2 - 1
    with torch.no_grad():
        logits = model(batch)
    save_safetensors(os.path.join(out_dir, zoo_id + ".safetensors"), torch_state_dict(model), {"format": "pt"})
    save_safetensors(os.path.join(out_dir, zoo_id + "-batch.safetensors"), {"input": batch, "logits": logits})
    print(zoo_id, "parameters", sum(p.numel() for p in model.parameters()), flush=True)
    del model
