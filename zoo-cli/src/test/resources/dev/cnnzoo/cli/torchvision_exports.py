# torchvision ResNets with seeded random weights (batch-norm affine parameters and running
# statistics randomised too, so folding them changes the convolutions), written the ways users
# bring weights to the zoo:
#   resnet50.onnx           torch.onnx.export as usual: eval mode, batch norms folded into the
#                           convolutions, constants folded (initializers renamed onnx::Conv_N)
#   resnet18-preserve.onnx  TrainingMode.PRESERVE: batch norms kept as nodes
#   resnet18.safetensors    the state dict behind a DataParallel-style "module." prefix, with
#                           PyTorch's num_batches_tracked counters
# plus a batch and PyTorch's logits for each network.
# Usage: torchvision_exports.py OUT_DIR COUNTERPARTS   (JSON: resnet50's and resnet18's torchvision counterparts, from the zoo)
import json
import os

import torch

out, counterparts = sys.argv[1], json.loads(sys.argv[2])


def randomised(model):
    torch.manual_seed(7)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
    return model.eval()


torch.manual_seed(0)
batch = torch.rand(2, 3, 224, 224)
tensors = {"input": batch}
with torch.no_grad():
    r50 = randomised(counterpart(counterparts["resnet50"]))
    tensors["resnet50"] = r50(batch)
    torch.onnx.export(r50, batch, os.path.join(out, "resnet50.onnx"), opset_version=17, do_constant_folding=True,
                      input_names=["input"], output_names=["logits"], dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
    r18 = randomised(counterpart(counterparts["resnet18"]))
    tensors["resnet18"] = r18(batch)
    torch.onnx.export(r18, batch, os.path.join(out, "resnet18-preserve.onnx"), opset_version=17,
                      training=torch.onnx.TrainingMode.PRESERVE, input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
    state = {"module." + k: v for k, v in r18.state_dict().items()}
    save_safetensors(os.path.join(out, "resnet18.safetensors"), state, {"format": "pt"})
save_safetensors(os.path.join(out, "batch.safetensors"), tensors)
print("counters", sum(1 for k in state if k.endswith("num_batches_tracked")))
