#!/usr/bin/python3
"""Writes the checkpoint-reader fixtures of @iqa-bench/model (packages/model/fixtures/checkpoints/).

Run with Debian's PyTorch 1.13:  /usr/bin/python3 tools/checkpoints/make_fixtures.py
Outputs are small (under 80 KiB each) and committed; the tests never need Python.
`make_fixtures.py --full DIR` writes full-size HyperNet checkpoints (Swin-T, Swin-B, ResNet-50) for the benchmark.

* torch.save files in the zip format (default pickle protocol 2, and protocol 4), the legacy pre-zip format, and the
  checkpoint wrappers, all with storages tagged 'cuda:0' (emulated: torch.serialization.location_tag is patched while
  saving; a real GPU save differs only in that string).
* a safetensors file written with struct/json (the safetensors pip package is not installed here).
* malicious and broken files: os.system via GLOBAL and STACK_GLOBAL, subprocess.Popen nested inside a state dict,
  torch.storage._load_from_bytes, a REDUCE on a storage class, a view outside its storage, truncated files, a zip entry
  with a path-traversal name, a zip entry declaring a 4 GiB size, a safetensors header declaring 2^62 bytes.
  The commands in them would create /tmp/iqa-bench-pwned-* if a reader executed them.
* <name>.expected.json next to the readable ones: every tensor's dtype, shape and values as PyTorch reads them.
"""
import collections
import io
import json
import math
import os
import pickle
import re
import struct
import sys
import zipfile

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'packages', 'model', 'fixtures', 'checkpoints')
OUT = os.path.normpath(OUT)
os.makedirs(OUT, exist_ok=True)

DTYPE_NAMES = {
    torch.float32: 'float32', torch.float64: 'float64', torch.float16: 'float16', torch.bfloat16: 'bfloat16',
    torch.int64: 'int64', torch.int32: 'int32', torch.int16: 'int16', torch.int8: 'int8', torch.uint8: 'uint8',
    torch.bool: 'bool',
}


def path(name):
    return os.path.join(OUT, name)


def json_value(x):
    if isinstance(x, bool):
        return x
    if isinstance(x, int):
        return x if abs(x) <= 2**53 - 1 else str(x)
    if math.isnan(x):
        return 'NaN'
    if math.isinf(x):
        return 'Infinity' if x > 0 else '-Infinity'
    return x


def expected(sd):
    out = collections.OrderedDict()
    for k, t in sd.items():
        flat = t.detach().contiguous().reshape(-1)
        if t.dtype in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
            values = [json_value(float(v)) for v in flat.double().tolist()]
        elif t.dtype == torch.bool:
            values = [bool(v) for v in flat.tolist()]
        else:
            values = [json_value(int(v)) for v in flat.tolist()]
        out[k] = {'dtype': DTYPE_NAMES[t.dtype], 'shape': list(t.shape), 'values': values}
    return out


def write_expected(name, sd):
    with open(path(name + '.expected.json'), 'w') as f:
        json.dump(expected(sd), f, indent=1)
        f.write('\n')


def save_cuda_tagged(obj, name, **kw):
    """torch.save with every storage tagged 'cuda:0', then check torch itself reads it back with map_location."""
    original = torch.serialization.location_tag
    torch.serialization.location_tag = lambda storage: 'cuda:0'
    try:
        torch.save(obj, path(name), **kw)
    finally:
        torch.serialization.location_tag = original
    torch.load(path(name), map_location='cpu')  # must not raise


def basic_state_dict():
    torch.manual_seed(0)
    sd = collections.OrderedDict()
    base = torch.arange(12, dtype=torch.float32) * 0.5 - 2.0
    sd['layer.weight'] = torch.randn(3, 4)
    sd['layer.bias'] = torch.randn(3)
    sd['shared.transposed'] = base.view(3, 4).t()  # non-contiguous view (stride (1, 4))
    sd['shared.slice'] = base[4:8]  # same storage, offset 4
    sd['shared.strided'] = base[1::3]  # same storage, offset 1, stride 3
    sd['expanded'] = torch.tensor([1.5, -2.0, 3.25]).expand(2, 3)  # stride (0, 1)
    sd['half'] = torch.tensor([0.1, -2.5, 65504.0, 6e-8, 1.0 / 3.0, float('inf')], dtype=torch.float16)
    sd['bfloat'] = torch.tensor([0.1, -3.0e38, 1.0 / 3.0], dtype=torch.bfloat16)
    sd['double'] = torch.tensor([[1.0 / 3.0, -1e-300], [1e300, 2.0]], dtype=torch.float64)
    sd['int32'] = torch.tensor([-(2**31), 2**31 - 1, 7], dtype=torch.int32)
    sd['int16'] = torch.tensor([-32768, 5], dtype=torch.int16)
    sd['int8'] = torch.tensor([-128, 127], dtype=torch.int8)
    sd['uint8'] = torch.tensor([0, 255, 17], dtype=torch.uint8)
    sd['mask'] = torch.tensor([True, False, True])
    sd['bn.num_batches_tracked'] = torch.tensor(12345)  # int64 scalar, as BatchNorm stores it
    sd['big.int64'] = torch.tensor([2**40, -3], dtype=torch.int64)
    sd['empty'] = torch.zeros(0, 3)
    sd['scalar'] = torch.tensor(0.25)
    return sd


def small_state_dict():
    """A real module's state_dict(): an OrderedDict carrying a `_metadata` attribute (pickled with BUILD)."""
    torch.manual_seed(1)
    m = torch.nn.Module()
    m.fc = torch.nn.Linear(3, 2)
    m.bn = torch.nn.BatchNorm1d(2)
    m.train()
    m.bn(torch.randn(4, 2))
    m.bn.num_batches_tracked.fill_(7)
    sd = m.state_dict()
    assert hasattr(sd, '_metadata')
    return sd


def layouts_module():
    """Linear, 3x3 conv and 1x1 conv (each tfjs layout) plus a BatchNorm counter, with a forward pass to check layouts."""
    torch.manual_seed(2)
    m = torch.nn.Module()
    m.conv = torch.nn.Conv2d(2, 4, 3, padding=1)
    m.pw = torch.nn.Conv2d(4, 3, 1)
    m.lin = torch.nn.Linear(3, 2)
    m.bn = torch.nn.BatchNorm2d(3)
    m.bn.num_batches_tracked.fill_(3)
    x = torch.randn(1, 2, 5, 6)
    with torch.no_grad():
        y = m.pw(m.conv(x))
        out = m.lin(y.mean((2, 3)))
    forward = {'x_nchw': {'shape': list(x.shape), 'values': x.reshape(-1).tolist()},
               'y_nchw': {'shape': list(y.shape), 'values': y.reshape(-1).tolist()},
               'out': {'shape': list(out.shape), 'values': out.reshape(-1).tolist()}}
    return m, forward


def swin_timm_state_dict(embed, depths, heads, window=7, mlp_ratio=4, img=224, patch=4, classes=10, old=False):
    """A timm Swin Transformer state dict with random values (timm is not installed here; names and shapes follow timm
    >= 0.9, or with old=True the original Microsoft / timm < 0.9 layout: downsample at the end of stages 0-2 with
    `reduction` before `norm`, persistent relative_position_index / attn_mask buffers, `head.weight`)."""
    g = torch.Generator().manual_seed(3)
    # multiples of 1/64 in [-0.5, 0.5): exact in float32 and compressible, so the deflated fixtures stay small
    r = lambda *shape: torch.randint(-32, 32, shape, generator=g).float() / 64
    sd = collections.OrderedDict()
    sd['patch_embed.proj.weight'] = r(embed, 3, patch, patch)
    sd['patch_embed.proj.bias'] = r(embed)
    sd['patch_embed.norm.weight'] = r(embed)
    sd['patch_embed.norm.bias'] = r(embed)
    res = img // patch
    for i, (depth, nh) in enumerate(zip(depths, heads)):
        c = embed * 2**i
        if i > 0 and not old:
            sd['layers.%d.downsample.norm.weight' % i] = r(2 * c)
            sd['layers.%d.downsample.norm.bias' % i] = r(2 * c)
            sd['layers.%d.downsample.reduction.weight' % i] = r(c, 2 * c)
        res_i = res // 2**i
        w = min(window, res_i)
        for j in range(depth):
            b = 'layers.%d.blocks.%d.' % (i, j)
            sd[b + 'norm1.weight'] = r(c)
            sd[b + 'norm1.bias'] = r(c)
            if old and j % 2 == 1 and res_i > window:
                nw = (res_i // w) ** 2
                sd[b + 'attn_mask'] = torch.zeros(nw, w * w, w * w)  # values irrelevant: readers drop it
            sd[b + 'attn.relative_position_bias_table'] = r((2 * w - 1) ** 2, nh)
            if old:
                yx = torch.stack(torch.meshgrid(torch.arange(w), torch.arange(w), indexing='ij')).flatten(1)
                d = yx[:, :, None] - yx[:, None, :] + (w - 1)
                sd[b + 'attn.relative_position_index'] = d[0] * (2 * w - 1) + d[1]
            sd[b + 'attn.qkv.weight'] = r(3 * c, c)
            sd[b + 'attn.qkv.bias'] = r(3 * c)
            sd[b + 'attn.proj.weight'] = r(c, c)
            sd[b + 'attn.proj.bias'] = r(c)
            sd[b + 'norm2.weight'] = r(c)
            sd[b + 'norm2.bias'] = r(c)
            sd[b + 'mlp.fc1.weight'] = r(mlp_ratio * c, c)
            sd[b + 'mlp.fc1.bias'] = r(mlp_ratio * c)
            sd[b + 'mlp.fc2.weight'] = r(c, mlp_ratio * c)
            sd[b + 'mlp.fc2.bias'] = r(c)
        if old and i < 3:
            sd['layers.%d.downsample.reduction.weight' % i] = r(2 * c, 4 * c)
            sd['layers.%d.downsample.norm.weight' % i] = r(4 * c)
            sd['layers.%d.downsample.norm.bias' % i] = r(4 * c)
    cl = embed * 2**3
    sd['norm.weight'] = r(cl)
    sd['norm.bias'] = r(cl)
    sd['head.weight' if old else 'head.fc.weight'] = r(classes, cl)
    sd['head.bias' if old else 'head.fc.bias'] = r(classes)
    return sd


def resnet_torchvision_state_dict(layers, width, classes=10, counters=True):
    """A torchvision-layout Bottleneck ResNet state dict (stem and first stage `width` wide, expansion 4) with random
    values. counters=False drops num_batches_tracked, as in torchvision's resnet50-19c8e357.pth."""
    g = torch.Generator().manual_seed(4)
    r = lambda *shape: torch.randint(-32, 32, shape, generator=g).float() / 64
    sd = collections.OrderedDict()

    def bn(name, c):
        sd[name + '.weight'] = r(c)
        sd[name + '.bias'] = r(c)
        sd[name + '.running_mean'] = r(c)
        sd[name + '.running_var'] = torch.randint(32, 96, (c,), generator=g).float() / 64
        if counters:
            sd[name + '.num_batches_tracked'] = torch.tensor(11)

    sd['conv1.weight'] = r(width, 3, 7, 7)
    bn('bn1', width)
    cin = width
    for i, n in enumerate(layers):
        w = width * 2**i
        for k in range(n):
            b = 'layer%d.%d.' % (i + 1, k)
            sd[b + 'conv1.weight'] = r(w, cin, 1, 1)
            bn(b + 'bn1', w)
            sd[b + 'conv2.weight'] = r(w, w, 3, 3)
            bn(b + 'bn2', w)
            sd[b + 'conv3.weight'] = r(4 * w, w, 1, 1)
            bn(b + 'bn3', 4 * w)
            if k == 0:
                sd[b + 'downsample.0.weight'] = r(4 * w, cin, 1, 1)
                bn(b + 'downsample.1', 4 * w)
            cin = 4 * w
    sd['fc.weight'] = r(classes, cin)
    sd['fc.bias'] = r(classes)
    return sd


def hypernet_state_dict(cfg, seed=5):
    """A HyperNet state dict in the original's key order (`swin.backbone.*` or `res.*`, LDA heads, attention, conv1,
    then fc1w_conv … fc5b_fc) for a ModelConfig-shaped dict `cfg`, with random values. LDA conv widths are ldaOut * 2^i (16/32/64 for the original's ldaOut = 16)."""
    g = torch.Generator().manual_seed(seed)
    r = lambda *shape: torch.randint(-32, 32, shape, generator=g).float() / 64
    sd = collections.OrderedDict()
    bb, head = cfg['backbone'], cfg['head']
    if bb['kind'] == 'swin':
        timm = swin_timm_state_dict(bb['embedDim'], bb['depths'], bb['numHeads'], bb['windowSize'], bb['mlpRatio'],
                                    bb['imgSize'], bb['patchSize'])
        for k, v in timm.items():
            if k.startswith(('norm.', 'head.')):
                continue
            k = re.sub(r'^layers\.(\d+)\.', r'layers_\1.', k)
            sd['swin.backbone.' + k] = v
        chans = [bb['embedDim'] * 2**i for i in range(4)]
        lda = 'swin.'
    else:
        tv = resnet_torchvision_state_dict(bb['layers'], bb['baseWidth'])
        for k, v in tv.items():
            if not k.startswith('fc.'):
                sd['res.' + k] = v
        chans = [4 * bb['baseWidth'] * 2**i for i in range(4)]
        lda = 'res.'
    lo = head['ldaOut']
    for i in range(3):
        sd[lda + 'lda%d_pool.0.weight' % (i + 1)] = r(lo * 2**i, chans[i], 1, 1)
        sd[lda + 'lda%d_fc.weight' % (i + 1)] = r(lo, lo * 2**i * 4**(3 - i))
        sd[lda + 'lda%d_fc.bias' % (i + 1)] = r(lo)
    sd[lda + 'lda4_fc.weight'] = r(head['targetInSize'] - 3 * lo, chans[3])
    sd[lda + 'lda4_fc.bias'] = r(head['targetInSize'] - 3 * lo)
    if cfg['fusion'] == 'attention':
        ah = head['attentionHidden']
        sd['multiscale_attention.attention_net.0.weight'] = r(ah, chans[3])
        sd['multiscale_attention.attention_net.0.bias'] = r(ah)
        sd['multiscale_attention.attention_net.3.weight'] = r(4, ah)
        sd['multiscale_attention.attention_net.3.bias'] = r(4)
    cin = chans[3] if cfg['fusion'] == 'single' else sum(chans)
    for idx, cout in zip((0, 2, 4), (head['conv1Hidden'][0], head['conv1Hidden'][1], head['hyperInChannels'])):
        sd['conv1.%d.weight' % idx] = r(cout, cin, 1, 1)
        sd['conv1.%d.bias' % idx] = r(cout)
        cin = cout
    h, fs = head['hyperInChannels'], head['featureSize']
    sizes = [head['targetInSize']] + list(head['targetFc'])
    for l in range(4):
        n_out = sizes[l] * sizes[l + 1] // fs**2
        sd['fc%dw_conv.weight' % (l + 1)] = r(n_out, h, 3, 3)
        sd['fc%dw_conv.bias' % (l + 1)] = r(n_out)
        sd['fc%db_fc.weight' % (l + 1)] = r(sizes[l + 1], h)
        sd['fc%db_fc.bias' % (l + 1)] = r(sizes[l + 1])
    sd['fc5w_fc.weight'] = r(sizes[4], h)
    sd['fc5w_fc.bias'] = r(sizes[4])
    sd['fc5b_fc.weight'] = r(1, h)
    sd['fc5b_fc.bias'] = r(1)
    return sd


# attentionHidden is not in the weights without attention fusion: 256 (the original's) is what inference reports.
MICRO_HEAD = {'ldaOut': 2, 'hyperInChannels': 8, 'targetInSize': 14, 'targetFc': [7, 7, 7, 7], 'featureSize': 7,
              'conv1Hidden': [8, 6]}


def micro_config(fusion, backbone):
    return {'arch': 'smart-iqa' if backbone['kind'] == 'swin' else 'hyperiqa', 'backbone': backbone, 'fusion': fusion,
            'head': dict(MICRO_HEAD, attentionHidden=4 if fusion == 'attention' else 256), 'dropPathRate': 0, 'dropoutRate': 0, 'attentionDropout': 0.5}


SWIN_MICRO = {'kind': 'swin', 'embedDim': 2, 'depths': [2, 2, 1, 1], 'numHeads': [1, 1, 2, 2], 'windowSize': 7,
              'patchSize': 4, 'imgSize': 224, 'mlpRatio': 4}
RESNET_MICRO = {'kind': 'resnet', 'layers': [1, 1, 2, 1], 'baseWidth': 2, 'imgSize': 224}


def deflate_zip(name):
    """Re-zips a torch zip with deflate compression (smaller fixture; torch.load reads it too)."""
    with zipfile.ZipFile(path(name)) as z:
        entries = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path(name), 'w', compression=zipfile.ZIP_DEFLATED) as z:
        for n, data in entries:
            z.writestr(zipfile.ZipInfo(n, date_time=(1980, 1, 1, 0, 0, 0)), data, compress_type=zipfile.ZIP_DEFLATED)
    torch.load(path(name), map_location='cpu')


def write_safetensors(name, tensors, metadata):
    """The safetensors layout with struct/json: u64 LE header length, compact JSON (__metadata__ first, tensors in
    the given order), padded with spaces to a multiple of 8, then the raw little-endian tensor bytes."""
    codes = {torch.float32: 'F32', torch.float16: 'F16', torch.bfloat16: 'BF16', torch.float64: 'F64',
             torch.int64: 'I64', torch.int32: 'I32', torch.int16: 'I16', torch.int8: 'I8', torch.uint8: 'U8', torch.bool: 'BOOL'}
    header = collections.OrderedDict()
    if metadata:
        header['__metadata__'] = metadata
    blobs = []
    offset = 0
    for k, t in tensors.items():
        t = t.contiguous()
        if t.dtype == torch.bfloat16:
            raw = t.view(torch.int16).numpy().tobytes()
        else:
            raw = t.numpy().tobytes()
        header[k] = {'dtype': codes[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    hb = json.dumps(header, separators=(',', ':'), ensure_ascii=False).encode('utf-8')
    hb += b' ' * ((8 - len(hb) % 8) % 8)
    with open(path(name), 'wb') as f:
        f.write(struct.pack('<Q', len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)


# ---------------------------------------------------------------------------------------------------------------
# Hand-crafted pickles (for files torch would never write).

class Storage:
    def __init__(self, key, storage_type, numel, location='cpu'):
        self.key, self.storage_type, self.numel, self.location = key, storage_type, numel, location


class Tensor:
    """Pickles exactly like a torch tensor: _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())."""

    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, tuple(size), tuple(stride), False, collections.OrderedDict())

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2, self.args)


class Call:
    """Pickles as a call of `fn(*args)` (how an attacker makes pickle run code)."""

    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return (self.fn, self.args)


def crafted_pickle(obj, protocol=2):
    buf = io.BytesIO()
    p = pickle.Pickler(buf, protocol=protocol)
    p.persistent_id = lambda o: ('storage', o.storage_type, o.key, o.location, o.numel) if isinstance(o, Storage) else None
    p.dump(obj)
    return buf.getvalue()


def write_zip(name, entries):
    """A stored (uncompressed) zip like torch's, entries = [(name, bytes)]."""
    with zipfile.ZipFile(path(name), 'w', compression=zipfile.ZIP_STORED) as z:
        for n, data in entries:
            z.writestr(zipfile.ZipInfo(n, date_time=(1980, 1, 1, 0, 0, 0)), data)


def write_torch_like_zip(name, data_pkl, storages):
    prefix = os.path.splitext(name)[0].replace('.', '_')
    entries = [(prefix + '/data.pkl', data_pkl)]
    entries += [(prefix + '/data/' + k, v) for k, v in storages.items()]
    entries.append((prefix + '/version', b'3\n'))
    write_zip(name, entries)


def evil(cmd_name):
    return 'touch /tmp/iqa-bench-pwned-' + cmd_name


def main():
    sd = basic_state_dict()

    # --- readable torch files
    save_cuda_tagged(sd, 'basic.zip.pth')
    save_cuda_tagged(sd, 'basic.p4.zip.pth', pickle_protocol=4)
    save_cuda_tagged(sd, 'basic.legacy.pth', _use_new_zipfile_serialization=False)
    write_expected('basic', sd)
    for name in ('basic.zip.pth', 'basic.p4.zip.pth', 'basic.legacy.pth'):
        back = torch.load(path(name), map_location='cpu')
        for k in sd:
            assert back[k].dtype == sd[k].dtype and back[k].shape == sd[k].shape, k
            assert torch.equal(back[k], sd[k]) or (sd[k].dtype == torch.float16), k

    small = small_state_dict()
    write_expected('small', small)
    save_cuda_tagged({'model_hyper': small}, 'wrap-model_hyper.pth')
    # DataParallel-style keys under 'model'
    save_cuda_tagged({'model': collections.OrderedDict(('module.' + k, v) for k, v in small.items())}, 'wrap-model.pth')
    # An old training checkpoint: epoch, optimizer state and numpy metric values next to the weights.
    params = [torch.nn.Parameter(small['fc.weight'].clone()), torch.nn.Parameter(small['fc.bias'].clone())]
    opt = torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.999))
    (params[0].sum() + params[1].sum()).backward()
    opt.step()
    save_cuda_tagged(
        {'epoch': 3, 'model_state_dict': small, 'optimizer_state_dict': opt.state_dict(),
         'srcc': np.float64(0.9123), 'plcc': np.float32(0.5), 'best': np.int64(-4), 'tag': b'bytes\xff'},
        'wrap-model_state_dict.pth')
    # pyiqa: {'params': sd}; parameters saved as nn.Parameter (pickled through _rebuild_parameter)
    save_cuda_tagged({'params': collections.OrderedDict(
        (k, torch.nn.Parameter(v, requires_grad=False) if v.is_floating_point() else v) for k, v in small.items())},
        'wrap-params.pth')
    save_cuda_tagged(small, 'small.legacy.pth', _use_new_zipfile_serialization=False)
    # Not a state dict at all
    save_cuda_tagged({'epoch': 3, 'lr': 0.1}, 'no-state-dict.pth')

    m, forward = layouts_module()
    save_cuda_tagged(m.state_dict(), 'layouts.pth')
    with open(path('layouts.forward.json'), 'w') as f:
        json.dump(forward, f)
        f.write('\n')

    # --- ImageNet backbones (micro sizes): timm Swin new and old layouts, torchvision ResNet with and without counters
    swin_cfg = dict(embed=2, depths=(2, 2, 2, 2), heads=(1, 1, 2, 2))
    swin_new = swin_timm_state_dict(**swin_cfg)
    torch.save(swin_new, path('timm-swin-micro.pth'))
    deflate_zip('timm-swin-micro.pth')
    write_safetensors('timm-swin-micro.safetensors', swin_new, None)
    # The original Microsoft release wraps its weights as {'model': sd}.
    torch.save({'model': swin_timm_state_dict(**swin_cfg, old=True)}, path('timm-swin-micro-old.pth'))
    deflate_zip('timm-swin-micro-old.pth')
    torch.save(resnet_torchvision_state_dict((1, 1, 1, 1), 2, counters=False), path('torchvision-resnet-micro.pth'))
    deflate_zip('torchvision-resnet-micro.pth')

    # --- HyperNet checkpoints saved the way the original saves them (bare state dict, .pkl, zip, cuda:0), in every
    # fusion mode, and a ResNet HyperNet in the legacy format (like SSL92's koniq_pretrained.pkl)
    hypernets = [('hypernet-swin-attention.pkl', micro_config('attention', SWIN_MICRO), {}),
                 ('hypernet-swin-concat.pkl', micro_config('concat', SWIN_MICRO), {}),
                 ('hypernet-swin-single.pkl', micro_config('single', SWIN_MICRO), {}),
                 ('hypernet-resnet.legacy.pkl', micro_config('single', RESNET_MICRO), {'_use_new_zipfile_serialization': False})]
    for name, cfg, kw in hypernets:
        save_cuda_tagged(hypernet_state_dict(cfg), name, **kw)
        with open(path(name + '.config.json'), 'w') as f:
            json.dump(cfg, f, indent=1)
            f.write('\n')

    # --- safetensors written by Python (golden bytes)
    st = collections.OrderedDict((k, sd[k].contiguous()) for k in
                                 ('layer.weight', 'layer.bias', 'shared.transposed', 'half', 'bfloat', 'double',
                                  'int32', 'int16', 'int8', 'uint8', 'mask', 'bn.num_batches_tracked', 'big.int64', 'empty', 'scalar'))
    write_safetensors('golden.safetensors', st, collections.OrderedDict([('format', 'pt'), ('note', 'Grüße, "quoted" \\ and / slash')]))
    write_expected('golden', st)
    write_safetensors('golden-nometa.safetensors', collections.OrderedDict([('a', sd['layer.bias'])]), None)

    # --- malicious pickles. A reader that executed them would create /tmp/iqa-bench-pwned-*.
    os_system_p2 = pickle.dumps(Call(os.system, evil('global')), protocol=2)  # GLOBAL 'posix system'
    assert b'system' in os_system_p2 and b'\x93' not in os_system_p2
    with open(path('evil-global.pkl'), 'wb') as f:
        f.write(os_system_p2)
    write_zip('evil-global.pth', [('evil-global/data.pkl', os_system_p2), ('evil-global/version', b'3\n')])
    os_system_p4 = pickle.dumps(Call(os.system, evil('stack-global')), protocol=4)  # STACK_GLOBAL
    assert b'\x93' in os_system_p4
    write_zip('evil-stack-global.pth', [('evil-stack-global/data.pkl', os_system_p4), ('evil-stack-global/version', b'3\n')])
    # builtins.eval hidden as the value of one key in an otherwise valid state dict (legacy layout)
    import subprocess
    nested = collections.OrderedDict([('fc.weight', Tensor(Storage('0', torch.FloatStorage, 4), 0, (2, 2), (2, 1))),
                                      ('fc.bias', Call(subprocess.Popen, ['touch', '/tmp/iqa-bench-pwned-nested']))])
    write_torch_like_zip('evil-nested.pth', crafted_pickle(nested), {'0': struct.pack('<4f', 1, 2, 3, 4)})
    write_torch_like_zip('evil-load-from-bytes.pth', crafted_pickle(Call(torch.storage._load_from_bytes, b'x')), {})
    # A REDUCE on an allowed, reference-only global: torch.FloatStorage(10**12) would allocate 4 TB in Python.
    write_torch_like_zip('evil-reduce-storage.pth', crafted_pickle(Call(torch.FloatStorage, 10**12)), {})
    # builtins.eval through GLOBAL
    with open(path('evil-eval.pkl'), 'wb') as f:
        f.write(pickle.dumps(Call(eval, "__import__('os').system('" + evil('eval') + "')"), protocol=2))

    # --- broken files
    ok = collections.OrderedDict([('w', Tensor(Storage('0', torch.FloatStorage, 4), 0, (2, 2), (2, 1)))])
    write_torch_like_zip('crafted-ok.pth', crafted_pickle(ok), {'0': struct.pack('<4f', 1, 2, 3, 4)})
    # Every rebuild function on the allow-list: _rebuild_from_type_v2 (plain tensor and Parameter), the old
    # _rebuild_tensor, _rebuild_parameter and torch 2's _rebuild_parameter_with_state (faked here: torch 1.13 lacks it).
    def rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
        return torch._utils._rebuild_parameter(data, requires_grad, backward_hooks)
    rebuild_parameter_with_state.__module__ = 'torch._utils'
    rebuild_parameter_with_state.__qualname__ = rebuild_parameter_with_state.__name__ = '_rebuild_parameter_with_state'
    torch._utils._rebuild_parameter_with_state = rebuild_parameter_with_state
    st = Storage('0', torch.FloatStorage, 6)
    rebuilt = collections.OrderedDict([
        ('from_type.tensor', Call(torch._tensor._rebuild_from_type_v2, torch._utils._rebuild_tensor_v2, torch.Tensor,
                                  Tensor(st, 0, (2, 3), (3, 1)).args, {})),
        ('from_type.parameter', Call(torch._tensor._rebuild_from_type_v2, torch._utils._rebuild_tensor_v2,
                                     torch.nn.Parameter, Tensor(st, 3, (3,), (1,)).args, {})),
        ('v1', Call(torch._utils._rebuild_tensor, st, 1, (2, 2), (1, 2))),
        ('parameter', Call(torch._utils._rebuild_parameter, Tensor(st, 2, (3,), (1,)), True, collections.OrderedDict())),
        ('parameter_with_state', Call(rebuild_parameter_with_state, Tensor(st, 0, (2,), (2,)), False,
                                      collections.OrderedDict(), {})),
    ])
    write_torch_like_zip('crafted-rebuild.pth', crafted_pickle(rebuilt), {'0': struct.pack('<6f', 0, 1, 2, 3, 4, 5)})
    write_expected('crafted-rebuild', torch.load(path('crafted-rebuild.pth')))
    out_of_range = collections.OrderedDict([('w', Tensor(Storage('0', torch.FloatStorage, 4), 1, (2, 2), (2, 1)))])
    write_torch_like_zip('view-out-of-range.pth', crafted_pickle(out_of_range), {'0': struct.pack('<4f', 1, 2, 3, 4)})
    huge_storage = collections.OrderedDict([('w', Tensor(Storage('0', torch.FloatStorage, 10**15), 0, (4,), (1,)))])
    write_torch_like_zip('huge-storage.pth', crafted_pickle(huge_storage), {'0': struct.pack('<4f', 1, 2, 3, 4)})
    short_storage = collections.OrderedDict([('w', Tensor(Storage('0', torch.FloatStorage, 4), 0, (4,), (1,)))])
    write_torch_like_zip('short-storage.pth', crafted_pickle(short_storage), {'0': struct.pack('<3f', 1, 2, 3)})

    data = open(path('basic.zip.pth'), 'rb').read()
    open(path('truncated.zip.pth'), 'wb').write(data[: len(data) // 2])
    data = open(path('basic.legacy.pth'), 'rb').read()
    open(path('truncated.legacy.pth'), 'wb').write(data[:-10])
    data = open(path('golden.safetensors'), 'rb').read()
    open(path('truncated.safetensors'), 'wb').write(data[:-3])
    with open(path('huge-header.safetensors'), 'wb') as f:
        f.write(struct.pack('<Q', 2**62) + b'{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}' + b'\0' * 4)
    # overlapping offsets
    write_safetensors_raw = lambda n, header, body: open(path(n), 'wb').write(
        struct.pack('<Q', len(header)) + header + body)
    write_safetensors_raw('overlap.safetensors',
                          b'{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}',
                          b'\0' * 12)

    write_zip('traversal.pth', [('traversal/data.pkl', crafted_pickle(ok)), ('traversal/data/0', struct.pack('<4f', 1, 2, 3, 4)),
                                ('../../iqa-bench-pwned-traversal', b'x')])
    # A deflated entry whose headers declare 0xFFFFFFF0 uncompressed bytes.
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo('huge/data.pkl', date_time=(1980, 1, 1, 0, 0, 0)), crafted_pickle(ok), compress_type=zipfile.ZIP_DEFLATED)
    raw = bytearray(buf.getvalue())
    lh = raw.find(b'PK\x03\x04')
    struct.pack_into('<I', raw, lh + 22, 0xFFFFFFF0)
    cd = raw.find(b'PK\x01\x02')
    struct.pack_into('<I', raw, cd + 24, 0xFFFFFFF0)
    open(path('huge-declared.pth'), 'wb').write(bytes(raw))

    for n in sorted(os.listdir(OUT)):
        print('%8d  %s' % (os.path.getsize(path(n)), n))


def full_size(out):
    """Full-size checkpoints for bench/model-weights.mjs (not committed): SMART-IQA Tiny and Base HyperNets saved like
    the original (bare state dict, zip, cuda:0) and a ResNet-50 HyperNet in the legacy format (like koniq_pretrained.pkl)."""
    global OUT
    OUT = out
    os.makedirs(out, exist_ok=True)
    head = {'ldaOut': 16, 'hyperInChannels': 112, 'targetInSize': 224, 'targetFc': [112, 56, 28, 14], 'featureSize': 7,
            'conv1Hidden': [512, 256], 'attentionHidden': 256}
    swin = lambda e, d, h: {'kind': 'swin', 'embedDim': e, 'depths': d, 'numHeads': h, 'windowSize': 7, 'patchSize': 4,
                            'imgSize': 224, 'mlpRatio': 4}
    for name, backbone in (('tiny', swin(96, [2, 2, 6, 2], [3, 6, 12, 24])), ('base', swin(128, [2, 2, 18, 2], [4, 8, 16, 32]))):
        cfg = {'arch': 'smart-iqa', 'backbone': backbone, 'fusion': 'attention', 'head': head}
        save_cuda_tagged(hypernet_state_dict(cfg), 'smart-iqa-%s.pkl' % name)
    cfg = {'arch': 'hyperiqa', 'backbone': {'kind': 'resnet', 'layers': [3, 4, 6, 3], 'baseWidth': 64, 'imgSize': 224},
           'fusion': 'single', 'head': dict(head, conv1Hidden=[1024, 512])}
    save_cuda_tagged(hypernet_state_dict(cfg), 'hyperiqa-resnet50.legacy.pkl', _use_new_zipfile_serialization=False)
    for n in sorted(os.listdir(out)):
        print('%11d  %s' % (os.path.getsize(path(n)), n))


if __name__ == '__main__':
    if len(sys.argv) == 3 and sys.argv[1] == '--full':
        sys.exit(full_size(sys.argv[2]))
    sys.exit(main())
