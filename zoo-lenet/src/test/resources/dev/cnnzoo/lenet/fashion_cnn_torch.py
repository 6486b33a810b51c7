# The Fashion-MNIST CNN of Géron's Hands-On Machine Learning (2nd ed., ch. 14) written independently in PyTorch (fashion_cnn() in the
# test kit's helpers), with seeded random weights; writes its state dict, a batch and PyTorch's
# logits as safetensors.
# Usage: fashion_cnn_torch.py WEIGHTS_OUT BATCH_OUT
import torch

torch.manual_seed(1234)
model = fashion_cnn().eval()
assert sum(p.numel() for p in model.parameters()) == 1_413_834
batch = torch.rand(5, 1, 28, 28) * 2 - 1
with torch.no_grad():
    logits = model(batch)
save_safetensors(sys.argv[1], torch_state_dict(model), {"format": "pt"})
save_safetensors(sys.argv[2], {"input": batch, "logits": logits})
print("parameters", sum(p.numel() for p in model.parameters()))
