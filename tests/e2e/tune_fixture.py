"""Writes a small TorchScript CNN (two conv layers, batch norm, dropout) and a Fashion-MNIST subset
as the npz `adambench tune` and `converge --model` read, with Debian's python3-torch:
    /usr/bin/python3 tune_fixture.py OUT_DIR [--train N] [--val N] [--seed S]
OUT_DIR/cnn.pt: the module with its initial weights (torch.manual_seed(SEED), default 0); OUT_DIR/fmnist.npz:
x_train (N, 1, 28, 28) float32 in [0, 1], y_train int64, x_val, y_val."""
import argparse, gzip, os
import numpy as np
import torch

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--train", type=int, default=1024)
ap.add_argument("--val", type=int, default=512)
ap.add_argument("--seed", type=int, default=0, help="the weights' seed (another seed: another model)")
ap.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
args = ap.parse_args()


def idx(name):
    with gzip.open(os.path.join(args.data_dir, name)) as f:
        b = f.read()
    dims = b[3]
    shape = [int.from_bytes(b[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(b, np.uint8, offset=4 + 4 * dims).reshape(shape)


class CNN(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = torch.nn.Conv2d(1, 4, 3, stride=2, padding=1)
        self.bn1 = torch.nn.BatchNorm2d(4)
        self.conv2 = torch.nn.Conv2d(4, 8, 3, stride=2, padding=1)
        self.drop = torch.nn.Dropout(0.2)
        self.fc = torch.nn.Linear(8 * 7 * 7, 10)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = self.drop(torch.relu(self.conv2(x)))
        return self.fc(torch.flatten(x, 1))


torch.manual_seed(args.seed)
torch.jit.script(CNN()).save(os.path.join(args.out, "cnn.pt"))
xi, yi = idx("train-images-idx3-ubyte.gz"), idx("train-labels-idx1-ubyte.gz")
n = args.train + args.val
x = (xi[:n].astype(np.float32) / 255.0).reshape(n, 1, 28, 28)
y = yi[:n].astype(np.int64)
np.savez(os.path.join(args.out, "fmnist.npz"), x_train=x[:args.train], y_train=y[:args.train], x_val=x[args.train:], y_val=y[args.train:])
