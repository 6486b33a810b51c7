# PyTorch's side of `zoo bench --vs-pytorch`: times the same network in PyTorch (eager, CPU) with
# the zoo's thread count, warm-up and run counts, and prints one JSON line per batch:
# {"model": ID, "batch": B, "millis": [...], "torch": VERSION, "threads": N, "blas": NAME, "peak_resident_bytes": BYTES},
# or {"model": ID, "missing": WHY} for a model it has no counterpart of. The peak is the process's
# (Linux's VmHWM), reset to the resident size before each batch, as the zoo's side measures its own:
# Python, torch and the model built, then whatever the timed runs add.
# The network is the zoo model's torchvision (else timm) counterpart, which the zoo passes as
# --counterparts (its metadata's "counterparts": {"torchvision": {"name": ..., "kwargs": {...}}}),
# or, for the networks no library has, the definition written below.
# A training step is what the zoo's fused step does: forward in training mode, cross-entropy,
# backward, the optimizer's update, and the loss and logits brought to the host.
# Usage: pytorch_bench.py --model ID --input C,H,W --counterparts JSON --batch B,B --threads N --warmup W
#                         --iters I [--budget SECONDS] [--train --optimizer sgd|adam|adamw|nadam --lr LR]
#                         [--profile DIR]
# --profile DIR: after the timed runs, torch.autograd.profiler over as many more runs (at most 5), its
# per-operator table written to DIR/ID-bB-pytorch.txt (the zoo's side writes DIR/ID-bB.txt).
import argparse
import ctypes
import json
import os
import sys
import time

import torch
from torch import nn
import torch.nn.functional as F


class LeNet5(nn.Module):
    """LeNet-5 as the zoo writes it (LeCun et al. 1998): pad to 32×32, scaled tanh, trainable
    subsampling, C3's partial connections as three grouped convolutions over gathered maps, and
    RBF outputs on fixed ±1 codes (random here: their values do not change the work)."""
    C3 = [[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5], [4, 5, 0], [5, 0, 1],
          [0, 1, 2, 3], [1, 2, 3, 4], [2, 3, 4, 5], [3, 4, 5, 0], [4, 5, 0, 1], [5, 0, 1, 2],
          [0, 1, 3, 4], [1, 2, 4, 5], [0, 2, 3, 5], [0, 1, 2, 3, 4, 5]]

    def __init__(self, classes=10):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5)
        self.s2_weight = nn.Parameter(torch.empty(6, 1, 1).uniform_(-2.4, 2.4))
        self.s2_bias = nn.Parameter(torch.empty(6, 1, 1).uniform_(-0.6, 0.6))
        self.groups = []
        for name, first, end in (("from3", 0, 6), ("from4", 6, 15), ("from6", 15, 16)):
            maps = end - first
            fan_in = len(self.C3[first])
            idx = torch.tensor([m for row in self.C3[first:end] for m in row])
            self.register_buffer(name + "_maps", idx)
            setattr(self, name, nn.Conv2d(maps * fan_in, maps, 5, groups=maps))
            self.groups.append(name)
        self.s4_weight = nn.Parameter(torch.empty(16, 1, 1).uniform_(-2.4, 2.4))
        self.s4_bias = nn.Parameter(torch.empty(16, 1, 1).uniform_(-0.6, 0.6))
        self.c5 = nn.Conv2d(16, 120, 5)
        self.f6 = nn.Linear(120, 84)
        self.register_buffer("codes", torch.randint(0, 2, (classes, 84)).float() * 2 - 1)

    @staticmethod
    def squash(a):
        return 1.7159 * torch.tanh(a * (2.0 / 3.0))

    def forward(self, x):
        x = F.pad(x, (2, 2, 2, 2))
        x = self.squash(self.c1(x))
        x = self.squash(F.avg_pool2d(x, 2) * self.s2_weight + self.s2_bias)
        x = torch.cat([getattr(self, g)(x.index_select(1, getattr(self, g + "_maps"))) for g in self.groups], 1)
        x = self.squash(x)
        x = self.squash(F.avg_pool2d(x, 2) * self.s4_weight + self.s4_bias)
        x = self.squash(self.c5(x))
        f6 = self.squash(self.f6(torch.flatten(x, 1)))
        return -((f6.unsqueeze(1) - self.codes) ** 2).sum(2)


class ModernLeNet5(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc1(torch.flatten(x, 1)))
        return self.fc3(F.relu(self.fc2(x)))


class FashionCnn(nn.Module):
    def __init__(self, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 64, 7, padding="same")
        self.conv2 = nn.Conv2d(64, 128, 3, padding="same")
        self.conv3 = nn.Conv2d(128, 128, 3, padding="same")
        self.conv4 = nn.Conv2d(128, 256, 3, padding="same")
        self.conv5 = nn.Conv2d(256, 256, 3, padding="same")
        self.fc1 = nn.Linear(256 * 3 * 3, 128)
        self.fc2 = nn.Linear(128, 64)
        self.fc3 = nn.Linear(64, classes)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv3(F.relu(self.conv2(x)))), 2)
        x = F.max_pool2d(F.relu(self.conv5(F.relu(self.conv4(x)))), 2)
        x = self.drop(F.relu(self.fc1(torch.flatten(x, 1))))
        x = self.drop(F.relu(self.fc2(x)))
        return self.fc3(x)


# The zoo's networks no library has, by zoo id: written here after the zoo's definitions.
WRITTEN_HERE = {"lenet5": LeNet5, "lenet5-modern": ModernLeNet5, "fashion-cnn": FashionCnn}


def peer(model_id, counterparts):
    """A constructor for the network's PyTorch peer, or None."""
    if model_id in WRITTEN_HERE:
        return WRITTEN_HERE[model_id]
    if "torchvision" in counterparts:
        import torchvision
        c = counterparts["torchvision"]
        return lambda: getattr(torchvision.models, c["name"])(weights=None, **c["kwargs"])
    if "timm" in counterparts:
        try:
            import timm
        except ImportError:
            return None
        c = counterparts["timm"]
        return lambda: timm.create_model(c["name"], pretrained=False, **c["kwargs"])
    return None


def optimizer(kind, params, lr):
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9)
    if kind == "adam":
        return torch.optim.Adam(params, lr=lr)
    if kind == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=0.01)
    if kind == "nadam":
        return torch.optim.NAdam(params, lr=lr)
    raise SystemExit("unknown optimizer " + kind)


def subject(model, batch, shape, train, args):
    x = torch.rand(batch, *shape)
    if not train:
        model.eval()

        def infer():
            with torch.no_grad():
                out = model(x)
            return out
        return infer
    model.train()
    labels = torch.randint(0, 10, (batch,))
    opt = optimizer(args.optimizer, model.parameters(), args.lr)

    def step():
        opt.zero_grad(set_to_none=True)
        out = model(x)
        if isinstance(out, tuple):  # torchvision's GoogLeNet and Inception v3 with their auxiliary heads
            main, aux = out[0], [a for a in out[1:] if a is not None]
            loss = F.cross_entropy(main, labels) + 0.3 * sum(F.cross_entropy(a, labels) for a in aux)
        else:
            main, loss = out, F.cross_entropy(out, labels)
        loss.backward()
        opt.step()
        return loss.item(), main.detach().argmax(1).tolist()
    return step


def write_profile(run, runs, title, path):
    """torch.autograd.profiler over `runs` more runs: self CPU time per operator, per run."""
    with torch.autograd.profiler.profile() as prof:
        for _ in range(runs):
            run()
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=40)
    with open(path + ".tmp", "w") as f:
        f.write("# %s: torch.autograd.profiler over %d runs (divide its totals by %d for one step)\n%s\n" % (title, runs, runs, table))
    os.replace(path + ".tmp", path)


def reset_peak():
    """Starts a new VmHWM at the current resident size (Linux >= 4.0); False where that is not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_resident():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def blas_in_use():
    """Which BLAS torch's dense layers (aten::mm, addmm) call. Debian's torch is built against the
    generic libblas.so.3, so it gets whatever the alternatives system (or LD_LIBRARY_PATH) points that
    at: the netlib reference BLAS (libblas3, about 3 GFLOP/s on two cores) unless an optimised one is
    installed (libopenblas0-openmp, 20 times that). Several may be mapped at once (OpenBLAS's LAPACK
    beside the reference BLAS), so the one that counts is the library holding the sgemm_ that
    torch's own library resolves."""
    if torch.backends.mkl.is_available():
        return "MKL"
    a = torch.ones(8, 8)
    a @ a                                         # the BLAS is loaded by now, wherever it is loaded lazily
    try:
        with open("/proc/self/maps") as f:
            maps = []
            for line in f:
                fields = line.split()
                if len(fields) >= 6 and ".so" in fields[5]:
                    low, high = (int(x, 16) for x in fields[0].split("-"))
                    maps.append((low, high, fields[5]))
        torch_cpu = next(path for _, _, path in maps if os.path.basename(path).startswith("libtorch_cpu"))
        address = ctypes.cast(ctypes.CDLL(torch_cpu).sgemm_, ctypes.c_void_p).value
        path = next(path for low, high, path in maps if low <= address < high)
    except (OSError, AttributeError, StopIteration):
        return "BLAS unknown"
    name = path.lower()
    for key, label in (("openblas", "OpenBLAS"), ("mkl", "MKL"), ("blis", "BLIS"), ("atlas", "ATLAS")):
        if key in name:
            return label
    return "reference BLAS" if os.path.basename(name).startswith("libblas.so") else "BLAS unknown"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--input", required=True, help="C,H,W")
    p.add_argument("--counterparts", default="{}", help="the zoo model's counterparts as JSON")
    p.add_argument("--batch", default="1")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--iters", type=int, default=20)
    p.add_argument("--budget", type=float, default=0)
    p.add_argument("--train", action="store_true")
    p.add_argument("--optimizer", default="nadam")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--profile", default=None)
    args = p.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    blas = blas_in_use()
    mid, shape = args.model, tuple(int(d) for d in args.input.split(","))
    make = peer(mid, json.loads(args.counterparts))
    if make is None:
        print(json.dumps({"model": mid, "missing": "no PyTorch counterpart of %s: the zoo names no torchvision or timm "
                          "network for it (timm: installed?), and the script writes only %s"
                          % (mid, ", ".join(sorted(WRITTEN_HERE)))}), flush=True)
        return 0
    model = make()
    for batch in (int(b) for b in args.batch.split(",")):
        peak_known = reset_peak()
        run = subject(model, batch, shape, args.train, args)
        for _ in range(args.warmup):
            run()
        millis, begun = [], time.perf_counter()
        while len(millis) < args.iters:
            t = time.perf_counter()
            run()
            millis.append((time.perf_counter() - t) * 1000)
            if args.budget > 0 and time.perf_counter() - begun >= args.budget and len(millis) >= min(3, args.iters):
                break
        if args.profile:
            write_profile(run, min(5, len(millis)), "%s at batch %d" % (mid, batch),
                          os.path.join(args.profile, "%s-b%d-pytorch.txt" % (mid, batch)))
        print(json.dumps({"model": mid, "batch": batch, "millis": millis, "torch": torch.__version__,
                          "threads": torch.get_num_threads(), "blas": blas,
                          "peak_resident_bytes": peak_resident() if peak_known else None}), flush=True)


if __name__ == "__main__":
    sys.exit(main())
