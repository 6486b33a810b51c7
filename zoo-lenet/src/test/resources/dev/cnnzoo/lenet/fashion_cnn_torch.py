# The reference text's Fashion-MNIST CNN written independently in PyTorch, with seeded random
# weights; writes its state dict, a batch and PyTorch's logits as safetensors.
# Usage: fashion_cnn_torch.py WEIGHTS_OUT BATCH_OUT
import torch
from torch import nn

torch.manual_seed(1234)


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
        self.dropout = nn.Dropout(0.5)

    def forward(self, x):
        relu, pool = torch.relu, nn.functional.max_pool2d
        x = pool(relu(self.conv1(x)), 2)
        x = pool(relu(self.conv3(relu(self.conv2(x)))), 2)
        x = pool(relu(self.conv5(relu(self.conv4(x)))), 2)
        x = torch.flatten(x, 1)
        x = self.dropout(relu(self.fc1(x)))
        x = self.dropout(relu(self.fc2(x)))
        return self.fc3(x)


model = FashionCnn().eval()
assert sum(p.numel() for p in model.parameters()) == 1_413_834
batch = torch.rand(5, 1, 28, 28) * 2 - 1
with torch.no_grad():
    logits = model(batch)
save_safetensors(sys.argv[1], torch_state_dict(model), {"format": "pt"})
save_safetensors(sys.argv[2], {"input": batch, "logits": logits})
print("parameters", sum(p.numel() for p in model.parameters()))
