#!/usr/bin/python3
"""AlexNet in PyTorch, both variants of Loom's "alexnet": writes fixtures/alexnet.json.

"torchvision" (the default from 224x224 up): torchvision.models.alexnet as published (written
out here; torchvision is not installed), with in_channels and the width multiplier:

    conv 64 11x11/4 p2 → relu → maxpool 3/2 → conv 192 5x5 p2 → relu → maxpool 3/2
    → conv 384 → relu → conv 256 → relu → conv 256 → relu (3x3 p1) → maxpool 3/2
    → adaptive avgpool 6x6 → flatten → dropout → fc 4096 → relu → dropout → fc 4096 → relu → fc

"cifar" (below 224x224): the small-input AlexNet of the PyTorch CIFAR-10 model zoos:

    conv 64 3x3/2 p1 → relu → maxpool 2 → conv 192 3x3 p1 → relu → maxpool 2
    → conv 384 → relu → conv 256 → relu → conv 256 → relu (3x3 p1) → maxpool 2
    → dropout → fc 4096 → relu → dropout → fc 4096 → relu → fc num_classes

every width scaled by `width`. On 3x224x224 with 1000 classes the torchvision variant has
torchvision's 61,100,840 parameters (checked below).
"""
import torch
from torch import nn

from fixture_rows import config_value, scaled, variant_of, write_fixture

TORCHVISION_ALEXNET = 61_100_840


class AlexNet(nn.Module):
    def __init__(self, in_channels=1, num_classes=10, input_size=28, width=1.0, dropout=0.5, variant=None):
        super().__init__()
        h, w = (input_size, input_size) if isinstance(input_size, int) else input_size
        torchvision = variant_of(variant, h, w) == "torchvision"
        c = [scaled(n, width) for n in (64, 192, 384, 256, 256)]
        hidden = scaled(4096, width)
        if torchvision:
            first = [nn.Conv2d(in_channels, c[0], 11, stride=4, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
                     nn.Conv2d(c[0], c[1], 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2)]
            last_pool = nn.MaxPool2d(3, 2)
        else:
            first = [nn.Conv2d(in_channels, c[0], 3, stride=2, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                     nn.Conv2d(c[0], c[1], 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)]
            last_pool = nn.MaxPool2d(2)
        self.features = nn.Sequential(
            *first,
            nn.Conv2d(c[1], c[2], 3, padding=1), nn.ReLU(),
            nn.Conv2d(c[2], c[3], 3, padding=1), nn.ReLU(),
            nn.Conv2d(c[3], c[4], 3, padding=1), nn.ReLU(), last_pool)
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6)) if torchvision else nn.Identity()
        with torch.no_grad():
            flat = self.avgpool(self.features(torch.zeros(1, in_channels, h, w))).numel()
        self.classifier = nn.Sequential(
            nn.Dropout(dropout), nn.Linear(flat, hidden), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


def row(config, input_shape):
    model = AlexNet(config_value(config, "in_channels", 1), config_value(config, "num_classes", 10),
                    config_value(config, "input_size", 28), config_value(config, "width", 1.0),
                    config_value(config, "dropout", 0.5), config_value(config, "variant", None))
    return ("alexnet", config, input_shape, model)


if __name__ == "__main__":
    torch.manual_seed(0)
    imagenet = row({"in_channels": 3, "num_classes": 1000, "input_size": 224}, [3, 224, 224])
    assert sum(p.numel() for p in imagenet[3].parameters()) == TORCHVISION_ALEXNET
    write_fixture("alexnet", [
        row({}, [1, 28, 28]),
        row({"in_channels": 3, "input_size": 32, "num_classes": 100}, [3, 32, 32]),
        row({"width": 0.25, "dropout": 0.2}, [1, 28, 28]),
        row({"width": 0.5}, [1, 28, 28]),  # the Fashion-MNIST comparison's configuration
        imagenet,
        # The torchvision variant below 224 (the adaptive pool enlarges 2x2 to 6x6), and the
        # cifar variant at 224: each variant on request.
        row({"variant": "torchvision", "in_channels": 3, "input_size": 96, "width": 0.25}, [3, 96, 96]),
        row({"variant": "cifar", "in_channels": 3, "input_size": 224, "width": 0.125}, [3, 224, 224]),
    ], named=(4, 5))  # the torchvision variant has torchvision's parameter names
