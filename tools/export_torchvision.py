#!/usr/bin/python3
# Exports the torchvision counterpart of a zoo model with torch.onnx.export, for `zoo bench --vs`
# (timing the best exporter's graph beside the zoo's) and `zoo import` (bringing torchvision's
# weights into the zoo). Run it with Debian's python3 (python3-torch, python3-torchvision).
#
#   tools/export_torchvision.py resnet50 resnet50-tv.onnx                 # random weights, eval mode
#   tools/export_torchvision.py resnet50 resnet50-tv.onnx --weights DEFAULT   # torchvision's pretrained (downloads)
#   tools/export_torchvision.py resnet50 resnet50-tv.onnx --keep-batchnorm    # batch norms as nodes
#
# By default the export is what torch.onnx.export does for inference: eval mode, batch norms folded
# into the convolutions, constants folded, opset 17, a dynamic batch dimension named N. Folding
# renames the convolution weights (onnx::Conv_497); `zoo import` maps them back by the node names
# PyTorch ≥ 1.13 writes (/layer1/layer1.0/conv1/Conv) and restores each folded batch norm, so both
# forms import. --keep-batchnorm exports with TrainingMode.PRESERVE, which keeps the state dict's names.
import argparse
import sys

import torch
import torchvision

# Zoo id -> (torchvision constructor, keyword arguments, input size). The same pairs the zoo's
# conformance tests check weight for weight.
COUNTERPARTS = {
    "alexnet-tv": ("alexnet", {}, 224),
    "googlenet-bn": ("googlenet", {"aux_logits": False, "transform_input": False, "init_weights": True}, 224),
    "inception-v3": ("inception_v3", {"aux_logits": False, "transform_input": False, "init_weights": True}, 299),
}
for depth in (18, 34, 50, 101, 152):
    COUNTERPARTS["resnet%d" % depth] = ("resnet%d" % depth, {}, 224)
for depth in (11, 13, 16, 19):
    COUNTERPARTS["vgg%d" % depth] = ("vgg%d" % depth, {}, 224)
    COUNTERPARTS["vgg%d-bn" % depth] = ("vgg%d_bn" % depth, {}, 224)


def main():
    p = argparse.ArgumentParser(description="torch.onnx.export of a zoo model's torchvision counterpart")
    p.add_argument("model", help="zoo id: " + ", ".join(sorted(COUNTERPARTS)))
    p.add_argument("output")
    p.add_argument("--opset", type=int, default=17)
    p.add_argument("--weights", default=None, help="torchvision weights enum name (e.g. DEFAULT); default random")
    p.add_argument("--keep-batchnorm", action="store_true", help="TrainingMode.PRESERVE: batch norms stay nodes")
    args = p.parse_args()
    if args.model not in COUNTERPARTS:
        sys.exit("no torchvision counterpart for '%s'; known: %s" % (args.model, ", ".join(sorted(COUNTERPARTS))))
    name, kwargs, size = COUNTERPARTS[args.model]
    if args.weights:
        # torchvision insists on aux_logits=True with pretrained GoogLeNet and Inception v3 (eval mode
        # ignores the auxiliary heads, so the export is the same); transform_input stays False: the
        # zoo's Inception recipe already scales pixels to [-1, 1], which is what transform_input does.
        kwargs = {k: v for k, v in kwargs.items() if k not in ("init_weights", "aux_logits")}
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(weights=args.weights, **kwargs).eval()
    x = torch.rand(1, 3, size, size)
    extra = {"training": torch.onnx.TrainingMode.PRESERVE} if args.keep_batchnorm else {}
    with torch.no_grad():
        torch.onnx.export(model, x, args.output, opset_version=args.opset, do_constant_folding=True,
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, **extra)
    print("wrote %s: torchvision %s %s, opset %d%s" % (args.output, torchvision.__version__, name, args.opset,
                                                     ", batch norms kept" if args.keep_batchnorm else ""))


if __name__ == "__main__":
    main()
