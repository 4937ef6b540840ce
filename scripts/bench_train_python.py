#!/usr/bin/env python3
"""The FAQ fine-tuning step of faq-train, written in PyTorch (Python), for an images/s comparison with the LibTorch
trainer on the same GPU (docs/distributed.md). Same network and the same work per step:
  - resnet20 (Fashion-MNIST 1x28x28, widths 16/32/64) or resnet18 (224x224x3: images resized and replicated to
    three channels, as faq-train --image-size 224 --channels 3 does), BatchNorm folded (convolutions with bias);
  - weights fake-quantized per output channel (round to nearest even, clamp to +-(2^(b-1)-1)), biases to the int32
    grid of weight scale x input scale, every activation floor(x/s + 1/2) clipped to its range, straight-through
    gradients; first and last layer 8-bit, the others --bits; fixed scales (calibration is not part of an epoch);
  - Fashion-MNIST as uint8 on the GPU, random crop (2-pixel padding) and flip on the GPU, normalization;
  - SGD with momentum 0.9 and weight decay 1e-4 (PyTorch's default multi-tensor implementation), cross-entropy;
    the running loss sum and correct count of the epoch kept on the GPU, as faq-train keeps them.
Prints images/s over --steps steps after --warmup steps (CUDA synchronized), as JSON.
Usage: bench_train_python.py [--model resnet20|resnet18] [--batch 256] [--steps 200] [--warmup 20] [--bits 4]
                             [--amp off|bf16] [--channels-last] [--data DIR]"""
import argparse, gzip, json, pathlib, struct, time

import torch
import torch.nn as nn
import torch.nn.functional as F

parser = argparse.ArgumentParser()
parser.add_argument("--model", default="resnet20", choices=["resnet20", "resnet18"])
parser.add_argument("--batch", type=int, default=256)
parser.add_argument("--steps", type=int, default=200)
parser.add_argument("--warmup", type=int, default=20)
parser.add_argument("--bits", type=int, default=4)
parser.add_argument("--amp", default="off", choices=["off", "bf16"])
parser.add_argument("--channels-last", action="store_true")
parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
args = parser.parse_args()
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
torch.backends.cudnn.benchmark = True
torch.backends.cuda.matmul.allow_tf32 = True
torch.backends.cudnn.allow_tf32 = True


def load_images(directory):
    for name in ("train-images-idx3-ubyte.gz", "train-images-idx3-ubyte"):
        path = pathlib.Path(directory) / name
        if path.exists():
            raw = gzip.open(path).read() if name.endswith(".gz") else path.read_bytes()
            _, n, h, w = struct.unpack(">IIII", raw[:16])
            return torch.frombuffer(bytearray(raw[16:]), dtype=torch.uint8).view(n, 1, h, w)
    raise SystemExit(f"bench_train_python.py: no train-images-idx3-ubyte[.gz] in {directory}")


def fq_act(x, s, lo, hi):
    x = x.float()
    c = torch.clamp(x, s * lo, s * hi)
    return c + (torch.floor(c / s + 0.5) * s - c).detach()


def fq_weight(w, bits):
    hi = 2 ** (bits - 1) - 1
    s = (w.detach().abs().flatten(1).amax(1) / hi).clamp_min(1e-12).view([-1] + [1] * (w.dim() - 1))
    return w + (torch.clamp(torch.round(w / s), -hi, hi) * s - w).detach(), s.flatten()


class QLayer(nn.Module):
    def __init__(self, layer, wbits, in_scale, out_scale, out_bits, relu, signed=False):
        super().__init__()
        self.layer, self.wbits, self.in_scale, self.out_scale, self.relu = layer, wbits, in_scale, out_scale, relu
        self.lo, self.hi = (-(2 ** (out_bits - 1)), 2 ** (out_bits - 1) - 1) if signed else (0, 2 ** out_bits - 1)

    def forward(self, x):
        w, ws = fq_weight(self.layer.weight, self.wbits)
        bias_scale = ws * self.in_scale
        b = self.layer.bias
        c = torch.clamp(b, bias_scale * -2 ** 31, bias_scale * (2 ** 31 - 1))
        b = c + (torch.floor(c / bias_scale + 0.5) * bias_scale - c).detach()
        if isinstance(self.layer, nn.Conv2d):
            y = F.conv2d(x, w, b, self.layer.stride, self.layer.padding)
        else:
            y = F.linear(x.flatten(1), w, b)
        if self.relu:
            y = F.relu(y)
        return fq_act(y, self.out_scale, self.lo, self.hi)


class Block(nn.Module):
    def __init__(self, cin, cout, stride, bits):
        super().__init__()
        self.a = QLayer(nn.Conv2d(cin, cout, 3, stride, 1), bits, 0.05, 0.05, bits, True)
        self.b = QLayer(nn.Conv2d(cout, cout, 3, 1, 1), bits, 0.05, 0.05, bits, False, signed=True)
        self.down = QLayer(nn.Conv2d(cin, cout, 1, stride, 0), bits, 0.05, 0.05, bits, False, signed=True) if stride != 1 or cin != cout else None

    def forward(self, x):
        shortcut = self.down(x) if self.down is not None else x
        return fq_act(F.relu(self.b(self.a(x)) + shortcut), 0.05, 0, 2 ** args.bits - 1)


class Net(nn.Module):
    def __init__(self, model, bits):
        super().__init__()
        if model == "resnet20":
            self.stem = QLayer(nn.Conv2d(1, 16, 3, 1, 1), 8, 0.02, 0.05, bits, True)
            self.pool = None
            widths, blocks, cin = [16, 32, 64], [3, 3, 3], 16
        else:
            self.stem = QLayer(nn.Conv2d(3, 64, 7, 2, 3), 8, 0.02, 0.05, bits, True)
            self.pool = nn.MaxPool2d(3, 2, 1)
            widths, blocks, cin = [64, 128, 256, 512], [2, 2, 2, 2], 64
        layers = []
        for stage, (width, count) in enumerate(zip(widths, blocks)):
            for b in range(count):
                layers.append(Block(cin, width, 2 if stage > 0 and b == 0 else 1, bits))
                cin = width
        self.layers = nn.Sequential(*layers)
        self.fc = QLayer(nn.Linear(cin, 10), 8, 0.05, 0.01, 16, False, signed=True)

    def forward(self, x):
        x = fq_act(x, 0.02, -128, 127)
        x = self.stem(x)
        if self.pool is not None:
            x = self.pool(x)
        x = self.layers(x)
        x = fq_act(F.adaptive_avg_pool2d(x, 1), 0.05, 0, 2 ** args.bits - 1)
        return self.fc(x)


images = load_images(args.data).to(device)
labels = torch.randint(0, 10, (images.size(0),), device=device)
size, channels = (28, 1) if args.model == "resnet20" else (224, 3)
net = Net(args.model, args.bits).to(device)
memory_format = torch.channels_last if args.channels_last else torch.contiguous_format
net = net.to(memory_format=memory_format)
optimizer = torch.optim.SGD(net.parameters(), lr=1e-3, momentum=0.9, weight_decay=1e-4)


def batch(step):
    idx = torch.randint(0, images.size(0), (args.batch,), device=device)
    x = images.index_select(0, idx).float().div_(255.0)
    n, stored, pad = x.size(0), x.size(2), max(1, x.size(2) // 14)
    padded = F.pad(x, (pad, pad, pad, pad))
    off = torch.randint(0, 2 * pad + 1, (n, 2), device=device)
    base = torch.arange(stored, device=device)
    rows, cols = off[:, 0:1] + base, off[:, 1:2] + base
    x = padded.permute(0, 2, 3, 1)[torch.arange(n, device=device).view(n, 1, 1), rows.view(n, stored, 1), cols.view(n, 1, stored)].permute(0, 3, 1, 2)
    x = torch.where((torch.rand(n, device=device) < 0.5).view(n, 1, 1, 1), x.flip(3), x)
    if size != stored:
        x = F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    x = (x - 0.2860) / 0.3530
    if channels != 1:
        x = x.expand(n, channels, size, size)
    return x.contiguous(memory_format=memory_format), labels.index_select(0, idx)


loss_sum = torch.zeros((), dtype=torch.float64, device=device)
correct = torch.zeros((), dtype=torch.long, device=device)


def step(i):
    global loss_sum, correct
    x, y = batch(i)
    optimizer.zero_grad(set_to_none=True)
    with torch.autocast("cuda", dtype=torch.bfloat16, enabled=args.amp == "bf16"):
        logits = net(x)
    loss = F.cross_entropy(logits.float(), y)
    loss.backward()
    optimizer.step()
    loss_sum += loss.detach().double() * x.size(0)
    correct += logits.detach().argmax(1).eq(y).sum()


for i in range(args.warmup):
    step(i)
if device.type == "cuda":
    torch.cuda.synchronize()
start = time.perf_counter()
for i in range(args.steps):
    step(i)
if device.type == "cuda":
    torch.cuda.synchronize()
seconds = time.perf_counter() - start
print(json.dumps({"model": args.model, "batch": args.batch, "amp": args.amp, "channels_last": args.channels_last,
                  "torch": torch.__version__, "device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
                  "steps": args.steps, "seconds": seconds, "images_per_second": args.steps * args.batch / seconds}))
