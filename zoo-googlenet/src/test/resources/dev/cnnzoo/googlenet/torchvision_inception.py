# torchvision's GoogLeNet (aux_logits=True) or Inception v3 with seeded random weights; writes its
# state dict, a batch, the main logits (eval mode) and the auxiliary logits as safetensors.
# Usage: torchvision_inception.py COUNTERPART WEIGHTS_OUT BATCH_OUT
#   COUNTERPART: the zoo model's torchvision counterpart as JSON (googlenet or inception_v3, with
#   aux_logits=True and transform_input=False: transform_input is preprocessing, which the zoo
#   records as the model's [-1, 1] input scaling)
import json

import torch

spec, weights_out, batch_out = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
name, size = spec["name"], spec["input"][1]
torch.manual_seed(5)
model = counterpart(spec)

# Batch-norm statistics from real activations, so every layer keeps a useful scale, then perturbed,
# and random affine parameters: the comparison exercises every part of batch norm.
batch_norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
for m in batch_norms:
    m.momentum = None  # cumulative average: after one batch, that batch's statistics
model.train()
with torch.no_grad():
    model(torch.rand(4, 3, size, size) * 2 - 1)
    for m in batch_norms:
        m.running_mean.mul_(torch.empty_like(m.running_mean).uniform_(0.8, 1.2))
        m.running_var.mul_(torch.empty_like(m.running_var).uniform_(0.8, 1.2))
        m.weight.uniform_(0.5, 1.5)
        m.bias.uniform_(-0.2, 0.2)

batch = torch.rand(2, 3, size, size) * 2 - 1
model.eval()
with torch.no_grad():
    logits = model(batch)

# torchvision returns the auxiliary logits only while the network's own training flag is set, and
# in training mode batch norm would use the batch's statistics and dropout would drop. Setting the
# flag on the top module alone, with every submodule in eval mode, gives the auxiliary heads as the
# zoo's training-form export computes them when run for inference: running statistics, no dropout.
# The heads' outputs are taken from the head modules themselves: GoogLeNet's returned tuple
# labels them the other way round (its forward unpacks _forward's (x, aux2, aux1) as (x, aux1, aux2)).
heads = {"aux1": model.aux1, "aux2": model.aux2} if name == "googlenet" else {"aux1": model.AuxLogits}
auxiliary = {}
for key, head in heads.items():
    head.register_forward_hook(lambda module, inputs, output, key=key: auxiliary.__setitem__(key, output))
model.train()
for child in model.children():
    child.eval()
with torch.no_grad():
    outputs = model(batch)
assert torch.equal(outputs.logits, logits), "the main logits changed with the top module's training flag"
assert len(auxiliary) == len(heads), "torchvision did not run every auxiliary head"

tensors = {"input": batch, "logits": logits, **auxiliary}
save_safetensors(weights_out, torch_state_dict(model), {"format": "pt"})
save_safetensors(batch_out, tensors)
print("parameters", sum(p.numel() for p in model.parameters()))
print("logits std", float(logits.std()), "aux1 std", float(tensors["aux1"].std()))
