#!/usr/bin/python3
"""GoogLeNet (Szegedy et al. 2015) for small inputs as the CIFAR port kuangliu/pytorch-cifar has
it, in PyTorch: writes fixtures/inception.json.

Stem 3x3 conv 192 (+BN, ReLU); inception 3a, 3b, max-pool 3/2, 4a-4e, max-pool 3/2, 5a, 5b;
global average pool; dropout; fc. Each module: 1x1 | 1x1 → 3x3 | 1x1 → 3x3 → 3x3 | max-pool 3/1
→ 1x1, each conv (with bias) followed by BN (norm "batch") and ReLU, branches concatenated.
"""
import torch
from torch import nn

from fixture_rows import config_value, scaled, write_fixture

# name: (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj), table 1 of the paper.
TABLE = [("3a", (64, 96, 128, 16, 32, 32)), ("3b", (128, 128, 192, 32, 96, 64)), "pool",
         ("4a", (192, 96, 208, 16, 48, 64)), ("4b", (160, 112, 224, 24, 64, 64)),
         ("4c", (128, 128, 256, 24, 64, 64)), ("4d", (112, 144, 288, 32, 64, 64)),
         ("4e", (256, 160, 320, 32, 128, 128)), "pool",
         ("5a", (256, 160, 320, 32, 128, 128)), ("5b", (384, 192, 384, 48, 128, 128))]


def unit(cin, cout, k, bn):
    layers = [nn.Conv2d(cin, cout, k, padding=k // 2)]
    if bn:
        layers.append(nn.BatchNorm2d(cout))
    return layers + [nn.ReLU(True)]


class Inception(nn.Module):
    def __init__(self, cin, n1, r3, n3, r5, n5, pp, bn):
        super().__init__()
        self.b1 = nn.Sequential(*unit(cin, n1, 1, bn))
        self.b2 = nn.Sequential(*unit(cin, r3, 1, bn), *unit(r3, n3, 3, bn))
        self.b3 = nn.Sequential(*unit(cin, r5, 1, bn), *unit(r5, n5, 3, bn), *unit(n5, n5, 3, bn))
        self.b4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), *unit(cin, pp, 1, bn))

    def forward(self, x):
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)


class GoogLeNet(nn.Module):
    def __init__(self, in_channels=1, num_classes=10, width=1.0, norm="batch", dropout=0.4):
        super().__init__()
        bn = norm == "batch"
        channels = scaled(192, width)
        self.stem = nn.Sequential(*unit(in_channels, channels, 3, bn))
        body = []
        for entry in TABLE:
            if entry == "pool":
                body.append(nn.MaxPool2d(3, stride=2, padding=1))
                continue
            n1, r3, n3, r5, n5, pp = (scaled(c, width) for c in entry[1])
            body.append(Inception(channels, n1, r3, n3, r5, n5, pp, bn))
            channels = n1 + n3 + n5 + pp
        self.body = nn.Sequential(*body)
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(channels, num_classes))

    def forward(self, x):
        return self.head(self.body(self.stem(x)).mean(dim=(2, 3)))


def row(config, input_shape):
    model = GoogLeNet(config_value(config, "in_channels", 1), config_value(config, "num_classes", 10),
                      config_value(config, "width", 1.0), config_value(config, "norm", "batch"),
                      config_value(config, "dropout", 0.4))
    return ("inception", config, input_shape, model)


if __name__ == "__main__":
    torch.manual_seed(0)
    write_fixture("inception", [
        row({}, [1, 28, 28]),
        row({"in_channels": 3, "input_size": 32, "num_classes": 100, "width": 0.5}, [3, 32, 32]),
        row({"norm": "none", "width": 0.25, "dropout": 0.2}, [1, 28, 28]),
    ])
