# Gradients of the Fashion-MNIST CNN's cross-entropy by PyTorch autograd, in training mode with
# given dropout masks. Reads weights and a batch (input, labels, masks) from safetensors; writes
# the loss and each parameter's gradient under "<name>_grad".
# Usage: fashion_cnn_grads.py WEIGHTS BATCH OUT
import torch

model = fashion_cnn()
model.load_state_dict({k: torch.from_numpy(v) for k, v in load_safetensors(sys.argv[1]).items()})
batch = {k: torch.from_numpy(v) for k, v in load_safetensors(sys.argv[2]).items()}
mask1 = batch["fc1.dropout_mask"]
mask2 = batch["fc2.dropout_mask"]
logits = model(batch["input"], mask1, mask2)
loss = torch.nn.functional.cross_entropy(logits, batch["labels"])
loss.backward()
out = {"loss": loss.detach().reshape(1)}
for name, p in model.named_parameters():
    out[name + "_grad"] = p.grad
save_safetensors(sys.argv[3], out)
print("loss", float(loss))
