# torchvision's ResNet-18 and GoogLeNet with seeded random weights, exported the usual way
# (eval mode, batch norms folded, constants folded, opset 17, dynamic batch): foreign float models
# for the quantizer, with PyTorch's Identity copies of shared initializers and no zoo metadata.
# Usage: torchvision_exports.py OUT_DIR
import os

import torch
import torchvision

out = sys.argv[1]
torch.manual_seed(0)
models = {
    "resnet18": torchvision.models.resnet18(),
    "googlenet": torchvision.models.googlenet(aux_logits=False, init_weights=True),
}
x = torch.rand(1, 3, 224, 224)
with torch.no_grad():
    for name, model in models.items():
        torch.onnx.export(model.eval(), x, os.path.join(out, name + ".onnx"), opset_version=17, do_constant_folding=True,
                          input_names=["input"], output_names=["logits"], dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
print("exported", ", ".join(models))
