# torchvision networks with seeded random weights, cut by
# torchvision.models.feature_extraction.create_feature_extractor at the given nodes; writes each
# state dict (NAME.safetensors) and a batch with the feature map of every node (NAME-io.safetensors:
# "input", then the nodes by name).
# Usage: torchvision_features.py OUT_DIR NAME:NODE,NODE,... ...
import os

import torch
import torchvision
from torchvision.models.feature_extraction import create_feature_extractor

out_dir = sys.argv[1]
# transform_input is preprocessing (the zoo records it as the model's [-1, 1] input scaling), so it is off.
OPTIONS = {
    "googlenet": dict(aux_logits=False, transform_input=False, init_weights=True),
    "inception_v3": dict(aux_logits=False, transform_input=False, init_weights=True),
}

for index, spec in enumerate(sys.argv[2:]):
    name, nodes = spec.split(":")
    nodes = nodes.split(",")
    torch.manual_seed(2024 + index)
    model = getattr(torchvision.models, name)(weights=None, **OPTIONS.get(name, {}))
    size = 299 if name == "inception_v3" else 224
    # Batch-norm statistics from real activations (every layer keeps a useful scale), then
    # perturbed, and random affine terms: the comparison exercises every part of batch norm.
    batch_norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for m in batch_norms:
        m.momentum = None
    model.train()
    with torch.no_grad():
        model(torch.rand(4, 3, size, size) * 2 - 1)
        for m in batch_norms:
            m.running_mean.mul_(torch.empty_like(m.running_mean).uniform_(0.8, 1.2))
            m.running_var.mul_(torch.empty_like(m.running_var).uniform_(0.8, 1.2))
            m.weight.uniform_(0.5, 1.5)
            m.bias.uniform_(-0.2, 0.2)
    model.eval()
    extractor = create_feature_extractor(model, return_nodes=nodes)
    batch = torch.rand(2, 3, size, size) * 2 - 1
    with torch.no_grad():
        features = extractor(batch)
    save_safetensors(os.path.join(out_dir, name + ".safetensors"), torch_state_dict(model), {"format": "pt"})
    save_safetensors(os.path.join(out_dir, name + "-io.safetensors"), {"input": batch, **features})
    print(name, " ".join("%s %s" % (k, "x".join(map(str, v.shape))) for k, v in features.items()), flush=True)
    del model, extractor
