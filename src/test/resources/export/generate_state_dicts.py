#!/usr/bin/env python3
"""Writes torchvision's resnet18 / resnet50 state-dict key lists (fc.* excluded) with their shapes.

PyTorch is not installed where umm4j is built, so the lists are generated from torchvision's architecture
rules (torchvision/models/resnet.py, He et al. 2016, "v1.5" bottleneck), not dumped from a model:

  conv1   Conv2d(3, 64, 7, stride 2, bias=False)          -> conv1.weight [64, 3, 7, 7]
  bn1     BatchNorm2d(64)                                  -> bn1.{weight, bias, running_mean, running_var}
                                                              [64] and bn1.num_batches_tracked [] (int64)
  layerS  S = 1..4, planes 64 * 2**(S-1), blocks (2,2,2,2) BasicBlock / (3,4,6,3) Bottleneck;
          block b (0-based) of stage S:
    BasicBlock (expansion 1): conv1 3x3 in->planes, bn1, conv2 3x3 planes->planes, bn2
    Bottleneck (expansion 4): conv1 1x1 in->planes, bn1, conv2 3x3 planes->planes, bn2,
                              conv3 1x1 planes->4 planes, bn3
    downsample (block 0 only, when stride != 1 or in != planes * expansion):
                              downsample.0 = Conv2d 1x1 in->planes*expansion, downsample.1 = BatchNorm2d
  fc      Linear(512 * expansion, 1000)                     -> excluded (umm4j backbones have no classifier)

Keys are listed in torchvision's registration order (the order of model.state_dict()), one per line:
"<key> <dim> <dim> ..." (no dims for the 0-d num_batches_tracked). The script checks the totals that
torchvision reports without fc: 11,176,512 trainable parameters (resnet18) and 23,508,032 (resnet50), i.e.
11,689,512 - 513,000 and 25,557,032 - 2,049,000 (weights and biases only; running statistics and
num_batches_tracked are buffers, not parameters).

Usage: python3 generate_state_dicts.py [output_dir]   (default: the directory of this script)
"""
import os
import sys

BN_KEYS = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")


def bn(prefix, c):
    out = []
    for k in BN_KEYS:
        out.append((prefix + "." + k, () if k == "num_batches_tracked" else (c,)))
    return out


def resnet(depth):
    bottleneck = depth == 50
    blocks = (3, 4, 6, 3) if bottleneck else (2, 2, 2, 2)
    expansion = 4 if bottleneck else 1
    keys = [("conv1.weight", (64, 3, 7, 7))] + bn("bn1", 64)
    inplanes = 64
    for s in range(1, 5):
        planes = 64 * 2 ** (s - 1)
        stride = 1 if s == 1 else 2
        for b in range(blocks[s - 1]):
            p = "layer%d.%d." % (s, b)
            st = stride if b == 0 else 1
            if bottleneck:
                keys.append((p + "conv1.weight", (planes, inplanes, 1, 1)))
                keys += bn(p + "bn1", planes)
                keys.append((p + "conv2.weight", (planes, planes, 3, 3)))
                keys += bn(p + "bn2", planes)
                keys.append((p + "conv3.weight", (planes * 4, planes, 1, 1)))
                keys += bn(p + "bn3", planes * 4)
            else:
                keys.append((p + "conv1.weight", (planes, inplanes, 3, 3)))
                keys += bn(p + "bn1", planes)
                keys.append((p + "conv2.weight", (planes, planes, 3, 3)))
                keys += bn(p + "bn2", planes)
            if b == 0 and (st != 1 or inplanes != planes * expansion):
                keys.append((p + "downsample.0.weight", (planes * expansion, inplanes, 1, 1)))
                keys += bn(p + "downsample.1", planes * expansion)
            inplanes = planes * expansion
    return keys


def trainable(keys):
    total = 0
    for k, shape in keys:
        if k.endswith(".weight") or k.endswith(".bias"):
            n = 1
            for d in shape:
                n *= d
            total += n
    return total


EXPECTED = {18: 11_176_512, 50: 23_508_032}


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
    for depth in (18, 50):
        keys = resnet(depth)
        n = trainable(keys)
        if n != EXPECTED[depth]:
            raise SystemExit("resnet%d: %d trainable parameters, expected %d" % (depth, n, EXPECTED[depth]))
        path = os.path.join(out_dir, "resnet%d-state-dict.txt" % depth)
        with open(path, "w") as f:
            for k, shape in keys:
                f.write(" ".join([k] + [str(d) for d in shape]) + "\n")
        print("%s: %d keys, %d trainable parameters" % (path, len(keys), n))


if __name__ == "__main__":
    main()
