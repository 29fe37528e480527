#!/usr/bin/python3
"""LeNet-5 (LeCun et al. 1998) as the course has it, in PyTorch: writes fixtures/lenet.json.

    conv 6@5x5 (padding 2 for 28x28 MNIST-sized inputs, 0 for the classic 32x32) → act → pool 2
    → conv 16@5x5 → act → pool 2 → fc 120 → act → fc 84 → act → fc num_classes
"""
import torch
from torch import nn

from fixture_rows import config_value, write_fixture


class LeNet5(nn.Module):
    def __init__(self, in_channels=1, num_classes=10, input_size=28, activation="relu", pool="max"):
        super().__init__()
        h, w = (input_size, input_size) if isinstance(input_size, int) else input_size
        padding = 2 if min(h, w) < 32 else 0
        act = nn.ReLU if activation == "relu" else nn.Tanh
        Pool = nn.MaxPool2d if pool == "max" else nn.AvgPool2d
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, 5, padding=padding), act(), Pool(2),
            nn.Conv2d(6, 16, 5), act(), Pool(2))
        # 5x5 left of a 32x32 (or padded 28x28) input; computed for other sizes.
        with torch.no_grad():
            flat = self.features(torch.zeros(1, in_channels, h, w)).numel()
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(flat, 120), act(), nn.Linear(120, 84), act(), nn.Linear(84, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


def row(config, input_shape):
    model = LeNet5(config_value(config, "in_channels", 1), config_value(config, "num_classes", 10),
                   config_value(config, "input_size", 28), config_value(config, "activation", "relu"),
                   config_value(config, "pool", "max"))
    return ("lenet5", config, input_shape, model)


if __name__ == "__main__":
    torch.manual_seed(0)
    write_fixture("lenet", [
        row({}, [1, 28, 28]),
        row({"input_size": 32}, [1, 32, 32]),
        row({"in_channels": 3, "input_size": 32, "num_classes": 100, "activation": "tanh", "pool": "avg"},
            [3, 32, 32]),
        row({"input_size": [28, 36], "activation": "tanh"}, [1, 28, 36]),
    ])
