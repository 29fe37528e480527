#!/usr/bin/python3
"""Residual networks (He et al. 2016) for small inputs, in PyTorch: writes fixtures/resnet.json.

CIFAR style (§4.2): 3x3 conv 16 → BN → ReLU, stages 16/32/64 of n blocks (depth 6n + 2 with
basic blocks, 9n + 2 with bottleneck blocks of expansion 4), stride 2 entering stages 2 and 3.
ImageNet style for small inputs (as kuangliu/pytorch-cifar): 3x3 stride-1 stem conv 64, no
max-pool, stages 64/128/256/512 with [2,2,2,2] (18), [3,4,6,3] (34, and 50 with bottlenecks),
[3,4,23,3] (101), stride 2 entering stages 2-4. Projection shortcuts (option B: 1x1 conv + BN)
where the shape changes; global average pool; fc. Without BN the convs have a bias.
"""
import torch
from torch import nn

from fixture_rows import config_value, scaled, write_fixture


def conv_bn(cin, cout, k, stride, bn):
    layers = [nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=not bn)]
    if bn:
        layers.append(nn.BatchNorm2d(cout))
    return nn.Sequential(*layers)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, cin, planes, stride, bn):
        super().__init__()
        self.conv1 = conv_bn(cin, planes, 3, stride, bn)
        self.conv2 = conv_bn(planes, planes, 3, 1, bn)
        self.shortcut = conv_bn(cin, planes, 1, stride, bn) if stride != 1 or cin != planes else nn.Identity()

    def forward(self, x):
        return torch.relu(self.conv2(torch.relu(self.conv1(x))) + self.shortcut(x))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, cin, planes, stride, bn):
        super().__init__()
        out = planes * 4
        self.conv1 = conv_bn(cin, planes, 1, 1, bn)
        self.conv2 = conv_bn(planes, planes, 3, stride, bn)
        self.conv3 = conv_bn(planes, out, 1, 1, bn)
        self.shortcut = conv_bn(cin, out, 1, stride, bn) if stride != 1 or cin != out else nn.Identity()

    def forward(self, x):
        y = torch.relu(self.conv2(torch.relu(self.conv1(x))))
        return torch.relu(self.conv3(y) + self.shortcut(x))


IMAGENET_BLOCKS = {("basic", 18): [2, 2, 2, 2], ("basic", 34): [3, 4, 6, 3], ("bottleneck", 50): [3, 4, 6, 3],
                   ("bottleneck", 101): [3, 4, 23, 3], ("bottleneck", 152): [3, 8, 36, 3]}


class ResNet(nn.Module):
    def __init__(self, style, block, depth, in_channels=1, num_classes=10, width=1.0, norm="batch"):
        super().__init__()
        bn = norm == "batch"
        Block = BasicBlock if block == "basic" else Bottleneck
        if style == "cifar":
            n = (depth - 2) // (6 if block == "basic" else 9)
            stem, planes, counts = 16, [16, 32, 64], [n, n, n]
        else:
            stem, planes, counts = 64, [64, 128, 256, 512], IMAGENET_BLOCKS[(block, depth)]
        channels = scaled(stem, width)
        self.stem = conv_bn(in_channels, channels, 3, 1, bn)
        stages = []
        for i, (p, count) in enumerate(zip(planes, counts)):
            blocks = []
            for b in range(count):
                blocks.append(Block(channels, scaled(p, width), 2 if i > 0 and b == 0 else 1, bn))
                channels = scaled(p, width) * Block.expansion
            stages.append(nn.Sequential(*blocks))
        self.stages = nn.Sequential(*stages)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x):
        y = self.stages(torch.relu(self.stem(x)))
        return self.fc(y.mean(dim=(2, 3)))


PRESETS = {"resnet8": ("cifar", "basic", 8), "resnet14": ("cifar", "basic", 14), "resnet20": ("cifar", "basic", 20),
           "resnet32": ("cifar", "basic", 32), "resnet18": ("imagenet", "basic", 18),
           "resnet34": ("imagenet", "basic", 34), "resnet50": ("imagenet", "bottleneck", 50)}


def row(type_, config, input_shape):
    if type_ == "resnet":
        style, block, depth = (config_value(config, "style", "cifar"), config_value(config, "block", "basic"),
                               config["depth"])
    else:
        style, block, depth = PRESETS[type_]
    model = ResNet(style, block, depth, config_value(config, "in_channels", 1),
                   config_value(config, "num_classes", 10), config_value(config, "width", 1.0),
                   config_value(config, "norm", "batch"))
    return (type_, config, input_shape, model)


if __name__ == "__main__":
    torch.manual_seed(0)
    write_fixture("resnet", [
        row("resnet8", {}, [1, 28, 28]),
        row("resnet14", {"in_channels": 3, "input_size": 32, "num_classes": 100}, [3, 32, 32]),
        row("resnet20", {}, [1, 28, 28]),
        row("resnet20", {"norm": "none", "width": 0.5}, [1, 28, 28]),
        row("resnet32", {"in_channels": 3, "input_size": 32}, [3, 32, 32]),
        row("resnet18", {}, [1, 28, 28]),
        row("resnet18", {"in_channels": 3, "input_size": 32, "num_classes": 100, "width": 0.25}, [3, 32, 32]),
        row("resnet34", {"in_channels": 3, "input_size": 32}, [3, 32, 32]),
        row("resnet34", {"width": 0.25, "norm": "none"}, [1, 28, 28]),
        row("resnet50", {}, [1, 28, 28]),
        row("resnet50", {"in_channels": 3, "input_size": 32, "num_classes": 100, "width": 0.25}, [3, 32, 32]),
        row("resnet", {"depth": 56, "width": 0.5}, [1, 28, 28]),
        row("resnet", {"depth": 29, "block": "bottleneck", "in_channels": 3, "input_size": 32}, [3, 32, 32]),
        row("resnet", {"depth": 18, "style": "imagenet", "width": 0.25, "norm": "none"}, [1, 28, 28]),
        row("resnet", {"depth": 101, "style": "imagenet", "block": "bottleneck", "width": 0.125}, [1, 28, 28]),
    ])
