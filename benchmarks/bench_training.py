"""Speed and accuracy of the solution's network (issue "Foundation", section 5).

    python benchmarks/bench_training.py [--datasets fashion-mnist mnist] [--budget 60] [--skip-torch]

1. Accuracy: the solution's `train` on the full training set, as many epochs as fit in --budget
   seconds of training, then test accuracy. Targets: >= 88% Fashion-MNIST, >= 97.5% MNIST.
2. Speed: one epoch of 784-128-10, batch 64, float32, plain minibatch SGD: the solution's NumPy
   code against PyTorch's CPU build doing the same work, side by side in this process, median of 3.
   Torch is a benchmark-only extra: pip install -e ".[bench]".
"""

import argparse
import platform
import time

import numpy as np

from nnassign import nn_data
from nnassign.reference import load_reference


def load(ref, dataset):
    x_train, y_train = nn_data.load_dataset(dataset, "train")
    x_test, y_test = nn_data.load_dataset(dataset, "test")
    return (ref["preprocess"](x_train), ref["one_hot"](y_train), y_train,
            ref["preprocess"](x_test), ref["one_hot"](y_test), y_test)


def accuracy_run(ref, dataset, budget, hidden, learning_rate):
    X, Y, _, Xt, Yt, yt = load(ref, dataset)
    # Time one epoch first, then train for as many whole epochs as the budget allows.
    t0 = time.perf_counter()
    ref["train"](X, Y, Xt[:, :1000], Yt[:, :1000], hidden, learning_rate, 1, batch_size=64, seed=0,
                 eval_every=10**9)
    per_epoch = time.perf_counter() - t0
    epochs = max(1, int(budget // per_epoch) - 1)
    t0 = time.perf_counter()
    params, _ = ref["train"](X, Y, Xt[:, :1000], Yt[:, :1000], hidden, learning_rate, epochs,
                             batch_size=64, seed=0, eval_every=10**9)
    seconds = time.perf_counter() - t0
    acc = ref["accuracy"](ref["predict"](Xt, params), yt)
    return epochs, seconds, acc


def numpy_epoch(ref, X, Y):
    t0 = time.perf_counter()
    ref["train"](X, Y, X[:, :10], Y[:, :10], 128, 0.1, 1, batch_size=64, seed=0, eval_every=10**9)
    return time.perf_counter() - t0


def torch_epoch(torch, X, labels, seed=0):
    """The same network and update rule in PyTorch: Linear-ReLU-Linear, cross-entropy, plain SGD."""
    torch.manual_seed(seed)
    x = torch.from_numpy(np.ascontiguousarray(X.T))          # torch wants samples as rows
    y = torch.from_numpy(labels.astype(np.int64))
    model = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = torch.nn.CrossEntropyLoss()
    t0 = time.perf_counter()
    order = torch.randperm(x.shape[0])
    xs, ys = x[order], y[order]
    for i in range(0, x.shape[0], 64):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xs[i:i + 64]), ys[i:i + 64])
        loss.backward()
        opt.step()
    return time.perf_counter() - t0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["fashion-mnist", "mnist"])
    parser.add_argument("--budget", type=float, default=60.0, help="training seconds for the accuracy run")
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--learning-rate", type=float, default=0.1)
    parser.add_argument("--skip-torch", action="store_true")
    args = parser.parse_args()
    ref = load_reference()
    print(f"machine: {platform.processor() or platform.machine()}, {__import__('os').cpu_count()} cores, "
          f"numpy {np.__version__}, python {platform.python_version()}")

    targets = {"fashion-mnist": 0.88, "mnist": 0.975}
    for dataset in args.datasets:
        epochs, seconds, acc = accuracy_run(ref, dataset, args.budget, args.hidden, args.learning_rate)
        verdict = "PASS" if acc >= targets[dataset] else "FAIL"
        print(f"accuracy {dataset}: {acc:.4f} after {epochs} epochs in {seconds:.1f} s of training "
              f"(784-{args.hidden}-10, lr {args.learning_rate}, batch 64); target {targets[dataset]}: {verdict}")

    X, _, labels, *_ = load(ref, "fashion-mnist")
    Y = ref["one_hot"](labels)
    numpy_times = [numpy_epoch(ref, X, Y) for _ in range(3)]
    print(f"epoch 784-128-10 batch 64 float32, numpy: median {np.median(numpy_times):.3f} s "
          f"(runs {', '.join(f'{t:.3f}' for t in numpy_times)})")
    if not args.skip_torch:
        import torch

        torch_times = [torch_epoch(torch, X, labels, seed) for seed in range(3)]
        ratio = np.median(numpy_times) / np.median(torch_times)
        print(f"epoch 784-128-10 batch 64 float32, torch {torch.__version__} ({torch.get_num_threads()} threads): "
              f"median {np.median(torch_times):.3f} s (runs {', '.join(f'{t:.3f}' for t in torch_times)})")
        print(f"numpy / torch time ratio: {ratio:.2f} ({'PASS' if ratio <= 1.0 else 'FAIL'}: target <= 1.0)")


if __name__ == "__main__":
    main()
