#!/usr/bin/python3
"""The README's fashion-cnn recipe in PyTorch, for the time-to-accuracy comparison with `zoo train`.

The same network (Géron's Fashion-MNIST CNN as zoo-cli's benchmark script defines it, Glorot-uniform
weights and zero biases as the zoo and Keras start it), the same data and preprocessing (Fashion-MNIST's
IDX files, pixels / 255 normalised by mean 0.2860 and std 0.3530, no augmentation), the same schedule:
NAdam (lr 1e-3, betas 0.9/0.999, eps 1e-7 as the zoo's, momentum decay 0.004), batch 64 with the last
partial batch dropped, a cosine from the base rate to 0 over every step of the run, dropout 0.5.

It prints one line per epoch and ends with a JSON line: training seconds (the timed steps, evaluation
excluded, as `zoo train` reports its epochs), the test accuracy after the last epoch and the best.

    tools/fashion_cnn_pytorch.py --threads 2                      # the full run: 12 epochs
    tools/fashion_cnn_pytorch.py --threads 2 --epochs 1 --limit 2000   # a smoke run
    ./zoo train fashion-cnn --epochs 12 --batch 64 --optimizer nadam --lr 1e-3 --schedule cosine --threads 2

Runs with Debian's /usr/bin/python3 (python3-torch, numpy) and, for a fair comparison, libopenblas0-openmp:
without it Debian's torch runs its dense layers on the netlib reference BLAS.
"""
import argparse
import gzip
import importlib.util
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.join(HERE, "..", "zoo-cli", "src", "main", "resources", "dev", "cnnzoo", "cli", "pytorch_bench.py")
MEAN, STD = 0.2860, 0.3530   # the zoo's Fashion-MNIST preprocessing (LeNetProvider.FASHION_MNIST)


def bench_script():
    """zoo-cli's benchmark script, whose network and BLAS check both comparisons share."""
    spec = importlib.util.spec_from_file_location("pytorch_bench", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


def fashion_cnn(bench):
    """The network of zoo-cli's benchmark script, so both comparisons run one definition."""
    model = bench.FashionCnn()
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return model


def idx(path):
    """An IDX file (gzipped or not) as a numpy array."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def split(data_dir, prefix, limit):
    def find(name):
        for candidate in (name, name + ".gz"):
            path = os.path.join(data_dir, candidate)
            if os.path.isfile(path):
                return path
        sys.exit("fashion_cnn_pytorch: %s has no %s[.gz]" % (data_dir, name))
    images = idx(find(prefix + "-images-idx3-ubyte"))
    labels = idx(find(prefix + "-labels-idx1-ubyte"))
    if limit > 0:
        images, labels = images[:limit], labels[:limit]
    x = (torch.from_numpy(images.astype(np.float32)).unsqueeze(1) / 255.0 - MEAN) / STD
    return x, torch.from_numpy(labels.astype(np.int64))


def accuracy(model, x, y):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), 1000):
            correct += (model(x[i:i + 1000]).argmax(1) == y[i:i + 1000]).sum().item()
    model.train()
    return correct / len(x)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--limit", type=int, default=0, help="use only the first N images of each split (smoke runs)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    bench = bench_script()
    blas = bench.blas_in_use()
    if blas == "reference BLAS":
        print("warning: torch's dense layers call the netlib reference BLAS, tens of times slower than an optimised one; "
              "install libopenblas0-openmp (Debian) for a fair comparison", file=sys.stderr, flush=True)
    torch.manual_seed(args.seed)
    train_x, train_y = split(args.data, "train", args.limit)
    test_x, test_y = split(args.data, "t10k", args.limit)
    model = fashion_cnn(bench)
    opt = torch.optim.NAdam(model.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-7, momentum_decay=4e-3)
    per_epoch = len(train_x) // args.batch
    if per_epoch == 0:
        sys.exit("fashion_cnn_pytorch: %d training images, fewer than one batch of %d" % (len(train_x), args.batch))
    total = per_epoch * args.epochs
    order = torch.Generator().manual_seed(args.seed)
    step, seconds, accuracies = 0, 0.0, []
    for epoch in range(1, args.epochs + 1):
        perm = torch.randperm(len(train_x), generator=order)
        loss_sum, started = 0.0, time.perf_counter()
        for b in range(per_epoch):
            step += 1
            for group in opt.param_groups:      # the zoo's cosine: step s of S gets lr/2 (1 + cos(pi (s - 1)/S))
                group["lr"] = 0.5 * args.lr * (1 + math.cos(math.pi * min(step - 1, total) / total))
            idx_ = perm[b * args.batch:(b + 1) * args.batch]
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(train_x[idx_]), train_y[idx_])
            loss.backward()
            opt.step()
            loss_sum += loss.item()
        elapsed = time.perf_counter() - started
        seconds += elapsed
        acc = accuracy(model, test_x, test_y)
        accuracies.append(acc)
        print("epoch %d/%d: train loss %.4f, test accuracy %.2f %%, %.1f s (%.0f images/s)"
              % (epoch, args.epochs, loss_sum / per_epoch, 100 * acc, elapsed, per_epoch * args.batch / elapsed), flush=True)
    print(json.dumps({"framework": "pytorch " + torch.__version__, "threads": torch.get_num_threads(), "blas": blas, "epochs": args.epochs,
                      "steps": step, "training_seconds": round(seconds, 1), "test_accuracy": accuracies[-1],
                      "best_test_accuracy": max(accuracies), "test_images": len(test_x)}))


if __name__ == "__main__":
    sys.exit(main())
