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
#
# Which torchvision constructor, with which keyword arguments and input size, is the zoo's to say:
# the script asks `zoo info ID --json` (the launcher beside this folder, or the command in $ZOO) for
# the model's torchvision counterpart. A family adds counterparts in its provider, never here.
import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import urllib.parse

PROG = os.path.basename(sys.argv[0])
try:
    import torch
    import torchvision
except ImportError as missing:
    sys.exit("%s: %s needs torch and torchvision (Debian's python3-torch, python3-torchvision): %s"
             % (PROG, sys.executable, missing))
LAUNCHER = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "zoo")


def fail(message):
    """One line on stderr and exit status 1: the zoo's rule for bad input."""
    sys.exit("%s: %s" % (PROG, message))


def zoo_info(model_id):
    """`zoo info ID --json`: the zoo's metadata for the id. The zoo's own errors (an unknown id, with
    suggestions) reach stderr as it prints them, and its exit status ends this script."""
    command = shlex.split(os.environ["ZOO"]) if os.environ.get("ZOO") else [LAUNCHER]
    try:
        run = subprocess.run(command + ["info", model_id, "--json"], stdout=subprocess.PIPE, text=True)
    except OSError as e:
        fail("cannot run the zoo (%s) to look up %s: %s" % (" ".join(command), model_id, e.strerror or e))
    if run.returncode != 0:
        sys.exit(run.returncode)
    return json.loads(run.stdout)


def torchvision_counterpart(info):
    counterparts = info["counterparts"]
    if "torchvision" not in counterparts:
        others = ", ".join("%s %s" % (c["library"], c["name"]) for c in counterparts.values())
        fail("%s has no torchvision counterpart%s" % (info["id"], "; it has " + others if others else ""))
    return counterparts["torchvision"]


def pretrained(name, weights_name):
    """torchvision's weights enum member for `name` (e.g. DEFAULT, IMAGENET1K_V1) with its file in
    torch's cache (downloaded if missing); a name torchvision lacks or a failed download is one line."""
    weights_enum = torchvision.models.get_model_weights(name)
    if weights_name not in weights_enum.__members__:
        fail("torchvision's %s has no weights %s; it has %s" % (name, weights_name, ", ".join(weights_enum.__members__)))
    weights = weights_enum[weights_name]
    # Where torch.hub caches it; fetched here rather than by torchvision, whose download prints a
    # line of its own before any failure.
    cached = os.path.join(torch.hub.get_dir(), "checkpoints", os.path.basename(urllib.parse.urlparse(weights.url).path))
    if not os.path.exists(cached):
        try:
            os.makedirs(os.path.dirname(cached), exist_ok=True)
            torch.hub.download_url_to_file(weights.url, cached, progress=False)
        except OSError as e:
            fail("cannot download torchvision's %s weights %s from %s (%s); put that file in %s, or export random weights "
                 "without --weights" % (name, weights_name, weights.url, getattr(e, "reason", None) or e, os.path.dirname(cached)))
    return weights


def main():
    p = argparse.ArgumentParser(description="torch.onnx.export of a zoo model's torchvision counterpart")
    p.add_argument("model", help="zoo id with a torchvision counterpart (`zoo info ID --json` shows its counterparts)")
    p.add_argument("output")
    p.add_argument("--opset", type=int, default=17)
    p.add_argument("--weights", default=None, help="torchvision weights enum name (e.g. DEFAULT); default random")
    p.add_argument("--keep-batchnorm", action="store_true", help="TrainingMode.PRESERVE: batch norms stay nodes")
    args = p.parse_args()
    folder = os.path.dirname(os.path.abspath(args.output))
    if not os.path.isdir(folder):
        fail("the output's folder %s does not exist" % folder)
    counterpart = torchvision_counterpart(zoo_info(args.model))
    name, kwargs, (channels, height, width) = counterpart["name"], dict(counterpart["kwargs"]), counterpart["input"]
    weights = None
    if args.weights:
        weights = pretrained(name, args.weights)
        # Weights replace the initialisation (torchvision refuses init_weights=True with them); the
        # counterpart's other arguments stand: GoogLeNet and Inception v3 keep their auxiliary heads
        # (eval mode ignores them, so the export is the same) and transform_input stays False, as the
        # zoo's Inception recipe already scales pixels to [-1, 1], which is what transform_input does.
        kwargs.pop("init_weights", None)
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(weights=weights, **kwargs).eval()
    x = torch.rand(1, channels, height, width)
    extra = {"training": torch.onnx.TrainingMode.PRESERVE} if args.keep_batchnorm else {}
    # Written under a temporary name beside the output, then renamed: a failed export leaves nothing.
    try:
        fd, partial = tempfile.mkstemp(prefix=os.path.basename(args.output) + ".", suffix=".tmp", dir=folder)
    except OSError as e:
        fail("cannot write in %s: %s" % (folder, e.strerror))
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(partial, 0o666 & ~umask)  # mkstemp's 0600 would otherwise stay on the output
    try:
        with torch.no_grad():
            torch.onnx.export(model, x, partial, opset_version=args.opset, do_constant_folding=True,
                              input_names=["input"], output_names=["logits"],
                              dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, **extra)
        os.replace(partial, args.output)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
    print("wrote %s: torchvision %s %s, opset %d%s" % (args.output, torchvision.__version__, name, args.opset,
                                                     ", batch norms kept" if args.keep_batchnorm else ""))


if __name__ == "__main__":
    main()
