# Weights files as users bring them, written by PyTorch and h5py, for CheckpointImportConformanceTest.
# One process writes everything (torch's import dominates the time); every network has seeded random
# weights with its batch norms' affine parameters and running statistics randomised too.
#
# torch.save files (with torchvision's logits on a small batch for each network):
#   resnet50.pth          torch.save(state_dict) as PyTorch writes it by default
#   vgg16_bn.pth          {"state_dict": ...}, saved with _use_new_zipfile_serialization=True
#   googlenet.pth         {"model": ..., "epoch": 3, "optimizer": ...}: a training script's checkpoint
#   inception_v3.pth      every floating tensor stored as float16 (the logits are those of the
#                         float16-rounded weights)
# and the files the zoo must refuse: evil.pth (a pickle whose loading would call os.system),
# legacy.pth (the pre-1.6 format), short-storage.pth (a storage entry cut short), bad-strides.pth
# (a tensor whose strides run past its storage).
#
# Keras HDF5 files in save_weights layout (h5py, attributes as Keras writes them), with Keras
# Applications' layer and weight names, and the same weights in the zoo's layout as safetensors:
#   xception.h5 / xception.safetensors, vgg16.h5 / vgg16.safetensors
#   resnet50-keras.h5     torchvision's ResNet-50 weights under Keras's names, with convolution biases
#   inception_v3-keras.h5 torchvision's Inception v3 under Keras's automatic names, batch norms without γ
#   xception-model.h5     a whole saved model (model_weights group, model_config JSON) whose
#                         block1_conv1_bn says epsilon 0.002; xception-model.safetensors holds the
#                         running variance the zoo must use for it (σ² + 0.002 − 0.001)
# Usage: checkpoints.py OUT_DIR MARKER_FILE
import collections
import json
import os
import zipfile

import h5py
import torch
import torchvision

out = sys.argv[1]
marker = sys.argv[2]


def path(name):
    return os.path.join(out, name)


def randomised(model, seed):
    torch.manual_seed(seed)
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
    return model.eval()


batches = {}
with torch.no_grad():
    # ---- torch.save ---------------------------------------------------------------------------
    torch.manual_seed(1)
    r50 = randomised(torchvision.models.resnet50(), 2)
    batches["resnet50.input"] = torch.rand(2, 3, 64, 64)
    batches["resnet50.logits"] = r50(batches["resnet50.input"])
    torch.save(r50.state_dict(), path("resnet50.pth"))

    vgg = randomised(torchvision.models.vgg16_bn(), 3)
    batches["vgg16-bn.input"] = torch.rand(1, 3, 32, 32)
    batches["vgg16-bn.logits"] = vgg(batches["vgg16-bn.input"])
    torch.save({"state_dict": vgg.state_dict()}, path("vgg16_bn.pth"), _use_new_zipfile_serialization=True)
    del vgg

    g = randomised(torchvision.models.googlenet(aux_logits=True, init_weights=True), 4)
    batches["googlenet-bn.input"] = torch.rand(2, 3, 64, 64)
    batches["googlenet-bn.logits"] = g(batches["googlenet-bn.input"])
    optimizer = torch.optim.SGD(g.parameters(), lr=0.1, momentum=0.9)
    torch.save({"model": g.state_dict(), "epoch": 3, "optimizer": optimizer.state_dict()}, path("googlenet.pth"))

    inception = randomised(torchvision.models.inception_v3(aux_logits=True, init_weights=True), 5)
    half = {k: (v.half() if v.is_floating_point() else v) for k, v in inception.state_dict().items()}
    inception.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in half.items()})
    batches["inception-v3.input"] = torch.rand(1, 3, 107, 107)
    batches["inception-v3.logits"] = inception(batches["inception-v3.input"])
    torch.save(half, path("inception_v3.pth"))
    del inception

    # ---- files to refuse ----------------------------------------------------------------------
    class RunsACommand:
        def __reduce__(self):
            return os.system, ("touch " + marker,)

    torch.save({"fc.weight": torch.zeros(2, 2), "payload": RunsACommand()}, path("evil.pth"))
    torch.save(r50.state_dict(), path("legacy.pth"), _use_new_zipfile_serialization=False)

    small = {"conv1.weight": torch.rand(64, 3, 7, 7), "fc.bias": torch.rand(1000)}
    torch.save(small, path("whole.pth"))
    with zipfile.ZipFile(path("whole.pth")) as src, zipfile.ZipFile(path("short-storage.pth"), "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            dst.writestr(info, data[: len(data) // 2] if info.filename.endswith("/data/0") else data)

    class PastItsStorage:
        # A view whose second row starts 100 elements on, in a storage of 16.
        def __reduce__(self):
            storage = torch.arange(16, dtype=torch.float32).storage()
            return torch._utils._rebuild_tensor_v2, (storage, 0, (4, 4), (100, 1), False, collections.OrderedDict())

    torch.save({"fc.weight": PastItsStorage()}, path("bad-strides.pth"))

    # ---- Keras HDF5 ---------------------------------------------------------------------------
    rng = np.random.default_rng(6)

    def keras_file(name, layers, model_config=None):
        """layers: [(layer name, [(weight name, array in Keras's layout)])] in Keras's order."""
        with h5py.File(path(name), "w") as f:
            group = f
            if model_config is not None:
                f.attrs["model_config"] = model_config.encode("utf-8")
                f.attrs["keras_version"] = b"2.10.0"
                f.attrs["backend"] = b"tensorflow"
                group = f.create_group("model_weights")
            group.attrs["layer_names"] = [n.encode("utf-8") for n, _ in layers]
            group.attrs["backend"] = b"tensorflow"
            group.attrs["keras_version"] = b"2.10.0"
            for layer, weights in layers:
                g = group.create_group(layer)
                names = [f"{layer}/{w}:0" for w, _ in weights]
                g.attrs["weight_names"] = [n.encode("utf-8") for n in names]
                for n, (_, a) in zip(names, weights):
                    g.create_dataset(n, data=a.astype(np.float32))

    def conv(o, i, k):
        return (rng.standard_normal((o, i, k, k)) * np.sqrt(2.0 / (i * k * k))).astype(np.float32)

    def hwio(w):
        return w.transpose(2, 3, 1, 0)

    def bn(c):
        return {"weight": rng.uniform(0.5, 1.5, c), "bias": rng.uniform(-0.2, 0.2, c),
                "running_mean": rng.uniform(-0.2, 0.2, c), "running_var": rng.uniform(0.5, 1.5, c)}

    def keras_bn(p):
        return [("gamma", p["weight"]), ("beta", p["bias"]), ("moving_mean", p["running_mean"]),
                ("moving_variance", p["running_var"])]

    # VGG-16 (Keras Applications): block1_conv1 … block5_conv3, then flatten, fc1, fc2, predictions.
    zoo, layers = {}, []
    cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
    channels, module, block, index = 3, 0, 1, 1
    for v in cfg:
        if v == "M":
            module, block, index = module + 1, block + 1, 1
            continue
        w, b = conv(v, channels, 3), rng.uniform(-0.1, 0.1, v)
        zoo[f"features.{module}.weight"], zoo[f"features.{module}.bias"] = w, b
        layers.append((f"block{block}_conv{index}", [("kernel", hwio(w)), ("bias", b)]))
        channels, module, index = v, module + 2, index + 1
    for name, zname, units, inputs in [("fc1", "classifier.0", 4096, 25088), ("fc2", "classifier.3", 4096, 4096),
                                       ("predictions", "classifier.6", 1000, 4096)]:
        w = (rng.standard_normal((units, inputs)) * np.sqrt(2.0 / inputs)).astype(np.float32)
        b = rng.uniform(-0.1, 0.1, units)
        zoo[zname + ".weight"], zoo[zname + ".bias"] = w, b
        kernel = w.T
        if name == "fc1":
            # Keras flattens a 7×7×512 map (height, width, channels); the zoo flattens 512×7×7.
            kernel = w.reshape(units, 512, 7, 7).transpose(2, 3, 1, 0).reshape(25088, units)
        layers.append((name, [("kernel", kernel), ("bias", b)]))
    keras_file("vgg16.h5", layers)
    save_safetensors(path("vgg16.safetensors"), {k: np.asarray(v, dtype=np.float32) for k, v in zoo.items()})
    del zoo, layers

    # Xception (Keras Applications): named layers, unnamed projection shortcuts (conv2d_N, batch_normalization_N).
    zoo, layers, shortcut = {}, [], [0]

    def conv_bn(name, o, i, k):
        w, p = conv(o, i, k), bn(o)
        zoo[name + ".weight"] = w
        for key, a in p.items():
            zoo[f"{name}_bn.{key}"] = a
        layers.append((name, [("kernel", hwio(w))]))
        layers.append((name + "_bn", keras_bn(p)))

    def shortcut_bn(zoo_name, o, i):
        n = shortcut[0]
        shortcut[0] += 1
        suffix = "" if n == 0 else f"_{n}"
        w, p = conv(o, i, 1), bn(o)
        zoo[zoo_name + ".weight"] = w
        for key, a in p.items():
            zoo[f"{zoo_name}_bn.{key}"] = a
        layers.append((f"conv2d{suffix}", [("kernel", hwio(w))]))
        layers.append((f"batch_normalization{suffix}", keras_bn(p)))

    def sep_bn(name, o, i):
        dw = (rng.standard_normal((i, 1, 3, 3)) * np.sqrt(2.0 / 9)).astype(np.float32)
        pw = conv(o, i, 1)
        p = bn(o)
        zoo[name + ".depthwise.weight"], zoo[name + ".pointwise.weight"] = dw, pw
        for key, a in p.items():
            zoo[f"{name}_bn.{key}"] = a
        # Keras: depthwise_kernel 3×3×C×1, pointwise_kernel 1×1×C×O.
        layers.append((name, [("depthwise_kernel", dw.transpose(2, 3, 0, 1)), ("pointwise_kernel", hwio(pw))]))
        layers.append((name + "_bn", keras_bn(p)))

    conv_bn("block1_conv1", 32, 3, 3)
    conv_bn("block1_conv2", 64, 32, 3)
    for blk, (i, o) in zip([2, 3, 4], [(64, 128), (128, 256), (256, 728)]):
        shortcut_bn(f"block{blk}_shortcut", o, i)
        sep_bn(f"block{blk}_sepconv1", o, i)
        sep_bn(f"block{blk}_sepconv2", o, o)
    for blk in range(5, 13):
        for k in range(1, 4):
            sep_bn(f"block{blk}_sepconv{k}", 728, 728)
    shortcut_bn("block13_shortcut", 1024, 728)
    sep_bn("block13_sepconv1", 728, 728)
    sep_bn("block13_sepconv2", 1024, 728)
    sep_bn("block14_sepconv1", 1536, 1024)
    sep_bn("block14_sepconv2", 2048, 1536)
    w, b = (rng.standard_normal((1000, 2048)) * 0.02).astype(np.float32), rng.uniform(-0.1, 0.1, 1000)
    zoo["predictions.weight"], zoo["predictions.bias"] = w, b
    layers.append(("predictions", [("kernel", w.T), ("bias", b)]))
    keras_file("xception.h5", layers)
    save_safetensors(path("xception.safetensors"), {k: np.asarray(v, dtype=np.float32) for k, v in zoo.items()})

    config = {"class_name": "Functional", "config": {"name": "xception", "layers": [
        {"class_name": "BatchNormalization", "name": n,
         "config": {"name": n, "epsilon": 0.002 if n == "block1_conv1_bn" else 0.001, "momentum": 0.99}}
        for n, _ in layers if n.endswith("_bn") or n.startswith("batch_normalization")]}}
    keras_file("xception-model.h5", layers, json.dumps(config))
    zoo["block1_conv1_bn.running_var"] = zoo["block1_conv1_bn.running_var"] + 0.001
    save_safetensors(path("xception-model.safetensors"), {k: np.asarray(v, dtype=np.float32) for k, v in zoo.items()})

    # ResNet-50 from torchvision's weights with Keras Applications' names (conv2_block1_1_conv, …,
    # the projection conv2_block1_0_conv). Keras's convolutions have biases: each gets a random one,
    # and the batch norm after it a moving mean that absorbs it, so the file computes what
    # torchvision's network computes and torchvision's logits are the reference.
    def keras_resnet(module):
        parts = module.split(".")
        if module in ("conv1", "bn1"):
            return "conv1_" + ("conv" if module == "conv1" else "bn")
        if module == "fc":
            return "predictions"
        stage, block = int(parts[0][len("layer"):]) + 1, int(parts[1]) + 1
        if parts[2] == "downsample":
            return f"conv{stage}_block{block}_0_" + ("conv" if parts[3] == "0" else "bn")
        kind, k = parts[2][:-1], parts[2][-1]
        return f"conv{stage}_block{block}_{k}_" + ("conv" if kind == "conv" else "bn")

    sd = {k: v.numpy() for k, v in r50.state_dict().items()}
    layers, bias = [], {}
    for key in sd:
        if not key.endswith(".weight"):
            continue
        module = key[: -len(".weight")]
        w = sd[key]
        if w.ndim == 4:
            b = rng.uniform(-0.2, 0.2, w.shape[0])
            bias[module] = b
            layers.append((keras_resnet(module), [("kernel", hwio(w)), ("bias", b)]))
        elif w.ndim == 2:
            layers.append(("predictions", [("kernel", w.T), ("bias", sd["fc.bias"])]))
        else:
            conv = module.replace("bn", "conv") if "downsample" not in module else module[:-1] + "0"
            layers.append((keras_resnet(module), [("gamma", w), ("beta", sd[module + ".bias"]),
                                                  ("moving_mean", sd[module + ".running_mean"] + bias[conv]),
                                                  ("moving_variance", sd[module + ".running_var"])]))
    keras_file("resnet50-keras.h5", layers)

    # Inception v3 with Keras's automatic names: conv2d, conv2d_1, … and batch_normalization_N in
    # the order Keras's inception_v3.py creates them (torchvision's module order), batch norms
    # without γ (Keras builds them with scale=False, so torchvision's γ is 1 here), listed in the
    # file in sorted-name order (conv2d_10 before conv2d_2) so only the numbers give the order.
    inception = randomised(torchvision.models.inception_v3(aux_logits=True, init_weights=True), 7)
    for m in inception.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.weight.data.fill_(1.0)
    batches["inception-v3-keras.logits"] = inception(batches["inception-v3.input"])
    units = [(n, m) for n, m in inception.named_modules()
             if isinstance(m, torchvision.models.inception.BasicConv2d) and not n.startswith("AuxLogits")]
    layers = []
    for i, (n, m) in enumerate(units):
        suffix = "" if i == 0 else f"_{i}"
        layers.append((f"conv2d{suffix}", [("kernel", hwio(m.conv.weight.numpy()))]))
        layers.append((f"batch_normalization{suffix}", [("beta", m.bn.bias.numpy()), ("moving_mean", m.bn.running_mean.numpy()),
                                                         ("moving_variance", m.bn.running_var.numpy())]))
    layers.append(("predictions", [("kernel", inception.fc.weight.numpy().T), ("bias", inception.fc.bias.numpy())]))
    keras_file("inception_v3-keras.h5", sorted(layers))

save_safetensors(path("batches.safetensors"), batches)
print("written", sorted(os.listdir(out)))
