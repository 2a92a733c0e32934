#!/usr/bin/env python3
"""Independent NumPy reader of a umm4j state-dict export, used by TorchStateDictNumpyTest.

Loads STATE.npz with numpy.load (proving the file is valid NumPy), then runs torchvision's eval-mode ResNet
forward pass on the array 'x' of INPUT.npz, written from the torchvision rules in plain float64 NumPy
(not from umm4j's code):
  stem     imagenet: conv1 7x7/2 pad 3, bn1, relu, maxpool 3x3/2 pad 1;  cifar: conv1 3x3/1 pad 1, bn1, relu
  block    basic: relu(bn2(conv2_3x3(relu(bn1(conv1_3x3/s(x))))) + sc(x))
           bottleneck: relu(bn3(conv3_1x1(relu(bn2(conv2_3x3/s(relu(bn1(conv1_1x1(x)))))))) + sc(x))
           stride s = 2 on block 0 of layers 2-4, sc = downsample.1(downsample.0 1x1/s) when present
  pool     global average
  head H   H.fc1, [H.bn1], relu, ..., H.fc(L+1), [H.bn(L+1)]   (Linear: x @ W.T + b)
BatchNorm (eval): (x - running_mean) / sqrt(running_var + 1e-5) * weight + bias.

Usage: python3 npz_check.py STATE.npz INPUT.npz STEM [HEAD]
Prints one JSON object: {"keys": {key: [dtype, shape]}, "values": {key: first element (float)},
"npy_identical": {key: whether the entry's bytes equal numpy.lib.format.write_array's for the same array},
"pool": [[...]], "head": [[...]] (when HEAD is given)}.
"""
import io
import json
import sys
import zipfile

import numpy as np

EPS = 1e-5


def conv(x, w, stride, pad):
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    ho = (h + 2 * pad - kh) // stride + 1
    wo = (wd + 2 * pad - kw) // stride + 1
    out = np.zeros((n, o, ho, wo))
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, :, i:i + stride * (ho - 1) + 1:stride, j:j + stride * (wo - 1) + 1:stride]
            out += np.einsum("nchw,oc->nohw", patch, w[:, :, i, j])
    return out


def bn(x, sd, p):
    shape = (1, -1) + (1,) * (x.ndim - 2)
    m = sd[p + ".running_mean"].reshape(shape)
    v = sd[p + ".running_var"].reshape(shape)
    y = (x - m) / np.sqrt(v + EPS)
    if p + ".weight" in sd:
        y = y * sd[p + ".weight"].reshape(shape) + sd[p + ".bias"].reshape(shape)
    return y


def maxpool(x, k, s, pad):
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=-np.inf)
    ho = (h + 2 * pad - k) // s + 1
    wo = (w + 2 * pad - k) // s + 1
    out = np.full((n, c, ho, wo), -np.inf)
    for i in range(k):
        for j in range(k):
            out = np.maximum(out, xp[:, :, i:i + s * (ho - 1) + 1:s, j:j + s * (wo - 1) + 1:s])
    return out


def relu(x):
    return np.maximum(x, 0)


def forward(sd, x, stem):
    if stem == "imagenet":
        x = maxpool(relu(bn(conv(x, sd["conv1.weight"], 2, 3), sd, "bn1")), 3, 2, 1)
    else:
        x = relu(bn(conv(x, sd["conv1.weight"], 1, 1), sd, "bn1"))
    for s in range(1, 5):
        b = 0
        while ("layer%d.%d.conv1.weight" % (s, b)) in sd:
            p = "layer%d.%d." % (s, b)
            st = 2 if (s > 1 and b == 0) else 1
            if (p + "conv3.weight") in sd:
                y = relu(bn(conv(x, sd[p + "conv1.weight"], 1, 0), sd, p + "bn1"))
                y = relu(bn(conv(y, sd[p + "conv2.weight"], st, 1), sd, p + "bn2"))
                y = bn(conv(y, sd[p + "conv3.weight"], 1, 0), sd, p + "bn3")
            else:
                y = relu(bn(conv(x, sd[p + "conv1.weight"], st, 1), sd, p + "bn1"))
                y = bn(conv(y, sd[p + "conv2.weight"], 1, 1), sd, p + "bn2")
            sc = x
            if (p + "downsample.0.weight") in sd:
                sc = bn(conv(x, sd[p + "downsample.0.weight"], st, 0), sd, p + "downsample.1")
            x = relu(y + sc)
            b += 1
    return x.mean(axis=(2, 3))


def head(sd, x, name):
    i = 1
    while ("%s.fc%d.weight" % (name, i)) in sd:
        p = "%s.fc%d" % (name, i)
        x = x @ sd[p + ".weight"].T
        if (p + ".bias") in sd:
            x = x + sd[p + ".bias"]
        if ("%s.bn%d.running_mean" % (name, i)) in sd:
            x = bn(x, sd, "%s.bn%d" % (name, i))
        if ("%s.fc%d.weight" % (name, i + 1)) in sd:
            x = relu(x)
        i += 1
    return x


def main():
    state = np.load(sys.argv[1])
    x = np.load(sys.argv[2])["x"].astype(np.float64)
    stem = sys.argv[3]
    out = {"keys": {}, "values": {}}
    sd = {}
    for k in state.files:
        a = state[k]
        out["keys"][k] = [str(a.dtype), list(a.shape)]
        out["values"][k] = float(a.reshape(-1)[0]) if a.size else None
        sd[k] = a.astype(np.float64)
    out["npy_identical"] = {}
    with zipfile.ZipFile(sys.argv[1]) as z:
        for k in state.files:
            buf = io.BytesIO()
            np.lib.format.write_array(buf, state[k], version=(1, 0))
            out["npy_identical"][k] = z.read(k + ".npy") == buf.getvalue()
    pool = forward(sd, x, stem)
    out["pool"] = pool.tolist()
    if len(sys.argv) > 4:
        out["head"] = head(sd, pool, sys.argv[4]).tolist()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
