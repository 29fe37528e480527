#!/usr/bin/python3
"""The small-input AlexNet of the PyTorch CIFAR-10 model zoos, in PyTorch: writes
fixtures/alexnet.json.

    conv 64 3x3/2 p1 → relu → maxpool 2 → conv 192 3x3 p1 → relu → maxpool 2
    → conv 384 → relu → conv 256 → relu → conv 256 → relu (3x3 p1) → maxpool 2
    → dropout → fc 4096 → relu → dropout → fc 4096 → relu → fc num_classes
every width scaled by `width`.
"""
import torch
from torch import nn

from fixture_rows import config_value, scaled, write_fixture


class AlexNet(nn.Module):
    def __init__(self, in_channels=1, num_classes=10, input_size=28, width=1.0, dropout=0.5):
        super().__init__()
        h, w = (input_size, input_size) if isinstance(input_size, int) else input_size
        c = [scaled(n, width) for n in (64, 192, 384, 256, 256)]
        hidden = scaled(4096, width)
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c[0], 3, stride=2, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c[0], c[1], 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c[1], c[2], 3, padding=1), nn.ReLU(),
            nn.Conv2d(c[2], c[3], 3, padding=1), nn.ReLU(),
            nn.Conv2d(c[3], c[4], 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        with torch.no_grad():
            flat = self.features(torch.zeros(1, in_channels, h, w)).numel()
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Dropout(dropout), nn.Linear(flat, hidden), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


def row(config, input_shape):
    model = AlexNet(config_value(config, "in_channels", 1), config_value(config, "num_classes", 10),
                    config_value(config, "input_size", 28), config_value(config, "width", 1.0),
                    config_value(config, "dropout", 0.5))
    return ("alexnet", config, input_shape, model)


if __name__ == "__main__":
    torch.manual_seed(0)
    write_fixture("alexnet", [
        row({}, [1, 28, 28]),
        row({"in_channels": 3, "input_size": 32, "num_classes": 100}, [3, 32, 32]),
        row({"width": 0.25, "dropout": 0.2}, [1, 28, 28]),
    ])
