#!/usr/bin/python3
"""Fixture rows for the "unet" architecture plugin (plugins/archs/unet), from an independent
PyTorch definition of the same model: for each config, the parameter count and the output shape
of one sample. The Loom test (tests/archs/) builds each config by name and checks both, so a
layer missing, doubled or sized differently in the plugin changes the count and fails.

    /usr/bin/python3 tests/archs/pytorch/unet.py    # writes tests/archs/fixtures/unet.json
"""
import torch
from torch import nn

from fixture_rows import write_fixture


def conv_block(cin, cout, batch_norm):
    layers = []
    for c in (cin, cout):
        layers.append(nn.Conv2d(c, cout, 3, padding=1, bias=not batch_norm))
        if batch_norm:
            layers.append(nn.BatchNorm2d(cout))
        layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def up_block(cin, cout, decoder):
    if decoder == "transposed":
        return nn.ConvTranspose2d(cin, cout, 2, stride=2)
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False), nn.Conv2d(cin, cout, 1))


class UNet(nn.Module):
    def __init__(self, in_channels=1, num_classes=11, base_channels=16, depth=3, decoder="transposed",
                 norm="batch", dropout=0.0, input_size=64):
        super().__init__()
        bn = norm == "batch"
        widths = [base_channels * 2**level for level in range(depth)]
        self.encoders = nn.ModuleList(conv_block(c_in, w, bn) for c_in, w in zip([in_channels] + widths[:-1], widths))
        self.pool = nn.MaxPool2d(2)
        self.bottleneck = conv_block(widths[-1], 2 * widths[-1], bn)
        if dropout > 0:
            self.bottleneck.append(nn.Dropout2d(dropout))
        self.ups = nn.ModuleList(up_block(2 * w, w, decoder) for w in widths)
        self.decoders = nn.ModuleList(conv_block(2 * w, w, bn) for w in widths)
        self.head = nn.Conv2d(base_channels, num_classes, 1)

    def forward(self, x):
        skips = []
        for encoder in self.encoders:
            skips.append(encoder(x))
            x = self.pool(skips[-1])
        x = self.bottleneck(x)
        for level in reversed(range(len(self.decoders))):
            x = self.decoders[level](torch.cat([skips[level], self.ups[level](x)], dim=1))
        return self.head(x)


# Both decoders, norm on and off, depths 2 to 4, square and non-square inputs, dropout.
CONFIGS = [
    {"in_channels": 1, "num_classes": 11, "input_size": 64, "base_channels": 16, "depth": 3,
     "decoder": "transposed", "norm": "batch", "dropout": 0},
    {"in_channels": 3, "num_classes": 4, "input_size": [32, 48], "base_channels": 8, "depth": 2,
     "decoder": "upsample", "norm": "none", "dropout": 0.2},
    {"in_channels": 2, "num_classes": 3, "input_size": 16, "base_channels": 4, "depth": 2,
     "decoder": "transposed", "norm": "none", "dropout": 0},
    {"in_channels": 1, "num_classes": 5, "input_size": 32, "base_channels": 8, "depth": 4,
     "decoder": "upsample", "norm": "batch", "dropout": 0},
]


def input_shape(config):
    size = config["input_size"]
    h, w = (size, size) if isinstance(size, int) else size
    return [config["in_channels"], h, w]


if __name__ == "__main__":
    write_fixture("unet", [("unet", c, input_shape(c), UNet(**c)) for c in CONFIGS])
