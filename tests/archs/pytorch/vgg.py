#!/usr/bin/python3
"""VGG-11/13/16 (Simonyan & Zisserman 2015, configurations A, B, D) for small inputs, in PyTorch
(the chengyangfu/pytorch-vgg-cifar10 layout: optional batch norm after each conv, classifier
dropout → fc 512 → relu → dropout → fc 512 → relu → fc): writes fixtures/vgg.json.

Inputs below 32 (28x28) drop the last max-pool; the classifier takes 512·h·w features.
"""
import torch
from torch import nn

from fixture_rows import config_value, scaled, write_fixture

CONFIGS = {
    "vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg13": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
}


class VGG(nn.Module):
    def __init__(self, name, in_channels=1, num_classes=10, input_size=28, width=1.0, norm="batch", dropout=0.5):
        super().__init__()
        h, w = (input_size, input_size) if isinstance(input_size, int) else input_size
        layers = list(CONFIGS[name])
        if min(h, w) < 32:
            layers = layers[:-1]  # the last entry is the fifth max-pool
        modules, channels = [], in_channels
        for v in layers:
            if v == "M":
                modules.append(nn.MaxPool2d(2, 2))
                continue
            out = scaled(v, width)
            modules.append(nn.Conv2d(channels, out, kernel_size=3, padding=1))
            if norm == "batch":
                modules.append(nn.BatchNorm2d(out))
            modules.append(nn.ReLU(inplace=True))
            channels = out
        self.features = nn.Sequential(*modules)
        with torch.no_grad():
            flat = self.features.eval()(torch.zeros(1, in_channels, h, w)).numel()
        hidden = scaled(512, width)
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Dropout(dropout), nn.Linear(flat, hidden), nn.ReLU(True),
            nn.Dropout(dropout), nn.Linear(hidden, hidden), nn.ReLU(True), nn.Linear(hidden, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


def row(name, config, input_shape):
    model = VGG(name, config_value(config, "in_channels", 1), config_value(config, "num_classes", 10),
                config_value(config, "input_size", 28), config_value(config, "width", 1.0),
                config_value(config, "norm", "batch"), config_value(config, "dropout", 0.5))
    return (name, config, input_shape, model)


if __name__ == "__main__":
    torch.manual_seed(0)
    write_fixture("vgg", [
        row("vgg11", {}, [1, 28, 28]),
        row("vgg11", {"norm": "none", "width": 0.25}, [1, 28, 28]),
        row("vgg11", {"in_channels": 3, "input_size": 64, "width": 0.125}, [3, 64, 64]),
        row("vgg13", {"in_channels": 3, "input_size": 32, "num_classes": 100}, [3, 32, 32]),
        row("vgg13", {"norm": "none", "width": 0.5, "dropout": 0.3}, [1, 28, 28]),
        row("vgg16", {}, [1, 28, 28]),
        row("vgg16", {"in_channels": 3, "input_size": 32, "num_classes": 100, "width": 0.25}, [3, 32, 32]),
    ])
