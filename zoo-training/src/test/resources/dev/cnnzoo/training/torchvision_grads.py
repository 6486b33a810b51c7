# Gradients of a torchvision network's training loss by PyTorch autograd: batch norm in training
# mode (batch statistics), dropout off (the zoo side feeds masks of ones), GoogLeNet's auxiliary
# losses weighted 0.3. Writes the seeded weights, the batch and the gradients as safetensors.
# Usage: torchvision_grads.py COUNTERPART SIZE WEIGHTS_OUT BATCH_OUT GRADS_OUT
#   COUNTERPART: the zoo model's torchvision counterpart as JSON; SIZE: the images' height and width
import json

import torch

spec, size = json.loads(sys.argv[1]), int(sys.argv[2])
torch.manual_seed(7)
model = counterpart(spec)
model.train()
for m in model.modules():
    if isinstance(m, torch.nn.Dropout):
        m.eval()
    if isinstance(m, torch.nn.BatchNorm2d):
        with torch.no_grad():
            m.weight.uniform_(0.5, 1.5)
            m.bias.uniform_(-0.2, 0.2)
save_safetensors(sys.argv[3], torch_state_dict(model))
x = torch.rand(4, 3, size, size) * 2 - 1
y = torch.randint(0, 1000, (4,))
out = model(x)
ce = torch.nn.functional.cross_entropy
if spec["name"] == "googlenet":  # with its auxiliary heads, whose losses weigh 0.3
    loss = ce(out.logits, y) + 0.3 * (ce(out.aux_logits1, y) + ce(out.aux_logits2, y))
else:
    loss = ce(out, y)
loss.backward()
save_safetensors(sys.argv[4], {"input": x, "labels": y})
grads = {"loss": loss.detach().reshape(1)}
# The training-mode forward pass has moved every running statistic one step (momentum 0.1).
for k, v in model.state_dict().items():
    if k.endswith("running_mean") or k.endswith("running_var"):
        grads[k + "_updated"] = v
for k, p in model.named_parameters():
    grads[k + "_grad"] = p.grad
save_safetensors(sys.argv[5], grads)
print("loss", float(loss))
