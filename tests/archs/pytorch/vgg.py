#!/usr/bin/python3
"""VGG-11/13/16 (Simonyan & Zisserman 2015, configurations A, B, D) in PyTorch, both variants of
Loom's "vgg*": writes fixtures/vgg.json. Optional batch norm after each conv (the *_bn networks).

"torchvision" (the default from 224x224 up): torchvision.models.vgg* as published (written out
here; torchvision is not installed): features → adaptive avgpool 7x7 → flatten → fc 4096 → relu
→ dropout → fc 4096 → relu → dropout → fc. On 3x224x224 with 1000 classes and no batch norm:
torchvision's 132,863,336 (VGG-11), 133,047,848 (VGG-13) and 138,357,544 (VGG-16) parameters
(checked below).

"cifar" (below 224x224): the chengyangfu/pytorch-vgg-cifar10 layout, classifier dropout → fc 512
→ relu → dropout → fc 512 → relu → fc; inputs below 32 (28x28) drop the last max-pool; the
classifier takes 512·h·w features.
"""
import torch
from torch import nn

from fixture_rows import config_value, scaled, variant_of, write_fixture

CONFIGS = {
    "vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg13": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
}
TORCHVISION = {"vgg11": 132_863_336, "vgg13": 133_047_848, "vgg16": 138_357_544}


class VGG(nn.Module):
    def __init__(self, name, in_channels=1, num_classes=10, input_size=28, width=1.0, norm="batch", dropout=0.5,
                 variant=None):
        super().__init__()
        h, w = (input_size, input_size) if isinstance(input_size, int) else input_size
        torchvision = variant_of(variant, h, w) == "torchvision"
        layers = list(CONFIGS[name])
        if not torchvision and min(h, w) < 32:
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
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7)) if torchvision else nn.Identity()
        with torch.no_grad():
            flat = self.avgpool(self.features.eval()(torch.zeros(1, in_channels, h, w))).numel()
        if torchvision:
            hidden = scaled(4096, width)
            self.classifier = nn.Sequential(
                nn.Linear(flat, hidden), nn.ReLU(True), nn.Dropout(dropout),
                nn.Linear(hidden, hidden), nn.ReLU(True), nn.Dropout(dropout), nn.Linear(hidden, num_classes))
        else:
            hidden = scaled(512, width)
            self.classifier = nn.Sequential(
                nn.Dropout(dropout), nn.Linear(flat, hidden), nn.ReLU(True),
                nn.Dropout(dropout), nn.Linear(hidden, hidden), nn.ReLU(True), nn.Linear(hidden, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def row(name, config, input_shape):
    model = VGG(name, config_value(config, "in_channels", 1), config_value(config, "num_classes", 10),
                config_value(config, "input_size", 28), config_value(config, "width", 1.0),
                config_value(config, "norm", "batch"), config_value(config, "dropout", 0.5),
                config_value(config, "variant", None))
    return (name, config, input_shape, model)


def imagenet_row(name):
    r = row(name, {"in_channels": 3, "num_classes": 1000, "input_size": 224, "norm": "none"}, [3, 224, 224])
    assert sum(p.numel() for p in r[3].parameters()) == TORCHVISION[name], name
    return r


if __name__ == "__main__":
    torch.manual_seed(0)
    rows = [
        row("vgg11", {}, [1, 28, 28]),
        row("vgg11", {"norm": "none", "width": 0.25}, [1, 28, 28]),
        row("vgg11", {"in_channels": 3, "input_size": 64, "width": 0.125}, [3, 64, 64]),
        row("vgg13", {"in_channels": 3, "input_size": 32, "num_classes": 100}, [3, 32, 32]),
        row("vgg13", {"norm": "none", "width": 0.5, "dropout": 0.3}, [1, 28, 28]),
        row("vgg16", {}, [1, 28, 28]),
        row("vgg16", {"in_channels": 3, "input_size": 32, "num_classes": 100, "width": 0.25}, [3, 32, 32]),
        row("vgg11", {"width": 0.5}, [1, 28, 28]),  # the Fashion-MNIST comparison's configuration
        # The published networks at ImageNet size: counted only (a forward of VGG-16 on two
        # 224x224 images is about 60 GFLOP, too slow for a unit test).
        imagenet_row("vgg11"),
        imagenet_row("vgg13"),
        imagenet_row("vgg16"),
        # The torchvision variant run: at 224 scaled down (the adaptive pool a no-op), and below 224
        # (the adaptive pool enlarges 2x2 to 7x7) with batch norm.
        row("vgg11", {"in_channels": 3, "input_size": 224, "norm": "none", "width": 0.0625}, [3, 224, 224]),
        row("vgg13", {"variant": "torchvision", "in_channels": 3, "input_size": 64, "width": 0.125}, [3, 64, 64]),
    ]
    write_fixture("vgg", rows, slow=(8, 9, 10), named=(8, 9, 10, 11, 12))  # torchvision's names
