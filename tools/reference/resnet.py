#!/usr/bin/python3
"""PyTorch reference of the HyperIQA ResNet-50 backbone (the original's `smart_iqa/models/hyperiqa.py`, with its
conv / BN initialisation) and the fixtures of its tfjs port.

Run with Debian's PyTorch 1.13 (torchvision is not needed):
    /usr/bin/python3 tools/reference/resnet.py            # writes packages/model/fixtures/resnet/ (committed, ~1 MB)
    /usr/bin/python3 tools/reference/resnet.py --full OUT  # ResNet-50 at 224, batch 2, into OUT (not committed)

The model is written from a description of the architecture, not copied from torchvision: conv1 7x7/2 (no bias) -> BN
-> ReLU -> MaxPool 3/2 pad 1 -> layer1..4 of Bottleneck blocks (1x1 -> 3x3 with the stride -> 1x1 x4, BN after each,
downsample = 1x1 conv + BN when the stride or width changes), no avgpool / fc. It lives under the attribute `res`, so keys read `res.conv1.weight`, ...
as in a HyperIQA state dict. Init: every conv N(0, sqrt(2 / (k*k*out))), BN weight 1, bias 0.

Outputs (micro model: baseWidth 8, layers [2,1,1,1], input 2x3x48x48, so odd map sides 3 occur in layer3):
* resnet-micro.pth: `torch.save(model.state_dict())` (zip format, like the original's checkpoints) after three
  train-mode forwards, so the BN running statistics and num_batches_tracked are not trivial.
* resnet-micro-golden.safetensors (written with struct/json; float32; NHWC where 4-D):
    input                       [2,48,48,3]   the input image batch (NHWC)
    eval.f{1..4}                stage features in eval mode (layer1..layer4 outputs)
    train.f{1..4}               stage features of one train-mode forward from the saved state
    train.loss                  [1]           loss = sum_k mean(train.f_k * r_k), r_k = golden `r{k}`
    f64.train.*, f64.grad.*     (--full only) the train-mode pass in float64
    r{1..4}                     the loss weights
    grad.<param>                d loss / d param in PyTorch layout, for a few parameters
    after.<bn>.running_mean/var the running statistics after that train-mode forward (every BN)
    after.<bn>.num_batches_tracked  stored as float32 (exact small integers)
  __metadata__: {"config": json of the ResNetBackboneConfig, "momentum": "0.1", "eps": "1e-05"}
"""
import json
import os
import struct
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, '..', '..', 'packages', 'model', 'fixtures', 'resnet'))


def conv(cin, cout, k, stride=1, pad=0):
    return nn.Conv2d(cin, cout, k, stride=stride, padding=pad, bias=False)


class Bottleneck(nn.Module):
    def __init__(self, cin, width, stride):
        super().__init__()
        cout = width * 4
        self.conv1 = conv(cin, width, 1)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = conv(width, width, 3, stride, 1)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = conv(width, cout, 1)
        self.bn3 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(conv(cin, cout, 1, stride), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)


class ResNetBackbone(nn.Module):
    def __init__(self, layers, base):
        super().__init__()
        self.conv1 = conv(3, base, 7, 2, 3)
        self.bn1 = nn.BatchNorm2d(base)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin = base
        for i, n in enumerate(layers):
            width = base * 2 ** i
            blocks = []
            for j in range(n):
                blocks.append(Bottleneck(cin, width, (1 if i == 0 else 2) if j == 0 else 1))
                cin = width * 4
            setattr(self, 'layer%d' % (i + 1), nn.Sequential(*blocks))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                n = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                m.weight.data.normal_(0, (2.0 / n) ** 0.5)
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.data.fill_(1)
                m.bias.data.zero_()

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        f1 = self.layer1(x)
        f2 = self.layer2(f1)
        f3 = self.layer3(f2)
        f4 = self.layer4(f3)
        return [f1, f2, f3, f4]


class Holder(nn.Module):
    """Gives the state-dict keys the HyperNet's `res.` prefix."""

    def __init__(self, layers, base):
        super().__init__()
        self.res = ResNetBackbone(layers, base)


def nhwc(t):
    t = t.detach()
    return t.permute(0, 2, 3, 1).contiguous() if t.dim() == 4 else t.contiguous()


def write_safetensors(path, tensors, metadata):
    """Minimal safetensors writer: 8-byte little-endian header length, JSON header, raw little-endian data."""
    header = OrderedDict()
    header['__metadata__'] = metadata
    blobs = []
    offset = 0
    for name, t in tensors.items():
        a = np.ascontiguousarray(t.detach().cpu().numpy().astype('<f4'))
        b = a.tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(a.shape), 'data_offsets': [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(',', ':')).encode('utf-8')
    h += b' ' * ((8 - len(h) % 8) % 8)
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def build(layers, base, size, batch, seed):
    torch.manual_seed(seed)
    model = Holder(layers, base)
    # Non-trivial running statistics: three train-mode forwards on shifted/scaled inputs.
    model.train()
    with torch.no_grad():
        for i in range(3):
            model.res(torch.randn(batch, 3, size, size) * (1 + 0.5 * i) + 0.3 * i)
    x = torch.randn(batch, 3, size, size)
    return model, x


def train_pass(model, x, grad_names):
    """One train-mode forward (updates the BN buffers) and the gradients of the golden loss."""
    model.train()
    feats = model.res(x)
    gen = torch.Generator().manual_seed(1234)
    rs = [torch.randn(f.shape, generator=gen).to(x.dtype) for f in feats]
    loss = sum((f * r).mean() for f, r in zip(feats, rs))
    params = dict(model.named_parameters())
    grads = torch.autograd.grad(loss, [params[n] for n in grad_names])
    return feats, rs, loss, grads


def float64_goldens(layers, base, state, x, grad_names):
    """The same train-mode pass in float64: the truth both float32 implementations are measured against."""
    m = Holder(layers, base).double()
    m.load_state_dict(state)
    feats, _, loss, grads = train_pass(m, x.double(), grad_names)
    out = OrderedDict()
    for i, f in enumerate(feats):
        out['f64.train.f%d' % (i + 1)] = nhwc(f)
    out['f64.train.loss'] = loss.detach().reshape(1)
    for n, g in zip(grad_names, grads):
        out['f64.grad.' + n] = g.detach().contiguous()
    return out


def goldens(model, x, grad_names):
    res = model.res
    sd_before = {k: v.clone() for k, v in model.state_dict().items()}
    out = OrderedDict()
    out['input'] = nhwc(x)
    model.eval()
    with torch.no_grad():
        for i, f in enumerate(res(x)):
            out['eval.f%d' % (i + 1)] = nhwc(f)
    feats, rs, loss, grads = train_pass(model, x, grad_names)
    for i, f in enumerate(feats):
        out['train.f%d' % (i + 1)] = nhwc(f)
        out['r%d' % (i + 1)] = nhwc(rs[i])
    out['train.loss'] = loss.detach().reshape(1)
    for n, g in zip(grad_names, grads):
        out['grad.' + n] = g.detach().contiguous()
    for k, v in model.state_dict().items():
        if k.endswith('running_mean') or k.endswith('running_var') or k.endswith('num_batches_tracked'):
            out['after.' + k] = v.detach().to(torch.float32).clone().reshape(v.shape)
    model.load_state_dict(sd_before)
    return out


def main():
    torch.set_num_threads(1)
    if len(sys.argv) >= 2 and sys.argv[1] == '--full':
        out_dir = sys.argv[2] if len(sys.argv) > 2 else '/tmp/resnet50-reference'
        layers, base, size, batch = [3, 4, 6, 3], 64, 224, 2
        name = 'resnet50'
    else:
        out_dir = OUT
        layers, base, size, batch = [2, 1, 1, 1], 8, 48, 2
        name = 'resnet-micro'
    os.makedirs(out_dir, exist_ok=True)
    model, x = build(layers, base, size, batch, seed=0)
    grad_names = [
        'res.conv1.weight',
        'res.bn1.weight',
        'res.layer1.0.conv2.weight',
        'res.layer1.1.bn3.bias',
        'res.layer2.0.downsample.0.weight',
        'res.layer3.0.conv2.weight',
        'res.layer4.0.bn2.weight',
        'res.layer4.0.conv3.weight',
    ]
    state = {k: v.clone() for k, v in model.state_dict().items()}
    g = goldens(model, x, grad_names)
    if name == 'resnet50':
        # Train mode at batch 2 from a random init is ill-conditioned (BN with batch statistics amplifies rounding
        # with depth): float64 goldens show how far float32 itself is from the exact values.
        g.update(float64_goldens(layers, base, state, x, grad_names))
    pth = os.path.join(out_dir, name + '.pth')
    torch.save(model.state_dict(), pth + '.tmp')
    os.replace(pth + '.tmp', pth)
    config = {'kind': 'resnet', 'layers': layers, 'baseWidth': base, 'imgSize': size}
    write_safetensors(
        os.path.join(out_dir, name + '-golden.safetensors'),
        g,
        {'config': json.dumps(config), 'momentum': '0.1', 'eps': '1e-05', 'torch': torch.__version__},
    )
    n_params = sum(p.numel() for p in model.res.parameters())
    print('%s: %d parameters, %d state-dict entries, wrote %s' % (name, n_params, len(model.state_dict()), out_dir))


if __name__ == '__main__':
    main()
