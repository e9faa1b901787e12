"""unsharp_torch: the unsharp engine's networks in PyTorch, built from architecture text.

One interpreter of the architecture text (docs/architecture-format.md) shared by the fixture
generator (tests/torch/make_fixture.py) and the training-speed reference
(bench/train_speed.py), so the reference and the engine's text cannot drift apart.

    layers = parse_arch(text)            # [(kind, name, inputs, keys)], as the docs define
    param_specs(layers)                  # [("c1.weight", (out, C, kh, kw)), ...] in order
    forward(layers, params, x, targets, training=False) -> (outputs, total loss or None)

    net = UnsharpNet(text, seed=1)       # a torch.nn.Module holding the parameters
    net.set_target("tile_loss", target, weight=None)   # like unsharp_model_set_target()
    outs, loss = net(x, training=True)   # like unsharp_model_forward(..., training=1)

Targets follow unsharp_model_set_target(): for sigmoid_ce, target and weight hold
N*C*H*W values in [0, 1]; for softmax_ce, target holds N*H*W class indices (as floats) and
weight N*H*W values; weight may be None (all 1). Any tensor of that many elements is accepted
(flat or shaped). Each loss layer is mean_i(w_i * loss_i) times its `weight` key; the total
loss is their sum.

Needs PyTorch (Debian's python3-torch: run with /usr/bin/python3).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

LOSS_KINDS = ("sigmoid_ce", "softmax_ce")
KINDS = ("input", "conv", "bias", "relu", "lrelu", "maxpool", "avgpool", "gmean", "gmax", "gvar",
         "concat", "dense", "dropout") + LOSS_KINDS


def parse_arch(text):
    """Parses the architecture text into a list of (kind, name, inputs, keys) per the docs."""
    layers = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        tok = line.split()
        kind, name = tok[0], tok[1]
        if kind not in KINDS:
            raise SystemExit("line %d: unknown layer kind %r" % (lineno, kind))
        if kind == "input":
            layers.append((kind, name, [], {"c": int(tok[2])}))
            continue
        inputs = tok[2].split(",")
        keys = {}
        for kv in tok[3:]:
            k, v = kv.split("=", 1)
            keys[k] = v
        layers.append((kind, name, inputs, keys))
    if not layers or layers[0][0] != "input":
        raise SystemExit("architecture must start with an input line")
    return layers


def kernel_keys(keys, k_default, s_default=None):
    """(kh, kw, s, p) from k / kh / kw / s / p; s defaults to k unless s_default is given."""
    k = int(keys.get("k", k_default))
    kh = int(keys.get("kh", k))
    kw = int(keys.get("kw", k))
    s = int(keys.get("s", s_default if s_default is not None else k))
    p = int(keys.get("p", 0))
    return kh, kw, s, p


def param_specs(layers):
    """Parameter names and shapes in architecture order (needs channel counts: shape inference)."""
    chans = {}
    specs = []
    for kind, name, inputs, keys in layers:
        if kind == "input":
            chans[name] = keys["c"]
        elif kind == "conv":
            cin = chans[inputs[0]]
            out = int(keys["out"])
            kh, kw, _, _ = kernel_keys(keys, 3, 1)
            specs.append((name + ".weight", (out, cin, kh, kw)))
            if int(keys.get("bias", 1)):
                specs.append((name + ".bias", (out,)))
            chans[name] = out
        elif kind == "bias":
            c = chans[inputs[0]]
            specs.append((name + ".bias", (c,)))
            chans[name] = c
        elif kind == "dense":
            cin = chans[inputs[0]]
            out = int(keys["out"])
            specs.append((name + ".weight", (out, cin)))
            specs.append((name + ".bias", (out,)))
            chans[name] = out
        elif kind == "concat":
            chans[name] = sum(chans[i] for i in inputs)
        elif kind in LOSS_KINDS:
            pass
        else:
            chans[name] = chans[inputs[0]]
    return specs


def loss_layer(kind, keys, a, target, weight=None):
    """One loss layer on its input a (N, C, H, W), targets as unsharp_model_set_target() takes
    them: mean_i(w_i * loss_i) times the layer's `weight` key."""
    scale = float(keys.get("weight", 1))
    if kind == "sigmoid_ce":
        l = F.binary_cross_entropy_with_logits(a, target.view_as(a), reduction="none")
        if weight is not None:
            l = weight.view_as(a) * l
        return l.mean() * scale
    if kind == "softmax_ce":
        n, _, h, w = a.shape
        l = F.cross_entropy(a, target.reshape(n, h, w).long(), reduction="none")
        if weight is not None:
            l = weight.view(n, h, w) * l
        return l.mean() * scale
    raise ValueError("not a loss layer kind: %r" % kind)


def forward(layers, params, x, targets, training=False):
    """Runs the network on x (N, C, H, W) with params {"LAYER.weight": tensor, ...}.

    targets: {loss layer name: (target, weight or None)}. A loss layer whose name is missing
    is skipped (a shape-only pass). training applies dropout (inverted, as the engine does).
    Returns (outputs dict of every non-loss layer, total loss or None)."""
    outs = {}
    total = None
    for kind, name, inputs, keys in layers:
        if kind == "input":
            outs[name] = x
            continue
        a = outs[inputs[0]]
        if kind == "conv":
            kh, kw, s, p = kernel_keys(keys, 3, 1)
            b = params.get(name + ".bias")
            y = F.conv2d(a, params[name + ".weight"], b, stride=s, padding=p)
        elif kind == "bias":
            y = a + params[name + ".bias"].view(1, -1, 1, 1)
        elif kind == "relu":
            y = F.relu(a)
        elif kind == "lrelu":
            y = F.leaky_relu(a, float(keys.get("slope", 0.01)))
        elif kind == "maxpool":
            kh, kw, s, p = kernel_keys(keys, 2)
            y = F.max_pool2d(a, (kh, kw), stride=s, padding=p)
        elif kind == "avgpool":
            kh, kw, s, p = kernel_keys(keys, 2)
            y = F.avg_pool2d(a, (kh, kw), stride=s, padding=p, count_include_pad=True)
        elif kind == "gmean":
            y = a.mean(dim=(2, 3), keepdim=True)
        elif kind == "gmax":
            y = a.amax(dim=(2, 3), keepdim=True)
        elif kind == "gvar":
            y = a.var(dim=(2, 3), unbiased=False, keepdim=True)
        elif kind == "concat":
            y = torch.cat([outs[i] for i in inputs], dim=1)
        elif kind == "dense":
            if a.shape[2] != 1 or a.shape[3] != 1:
                raise SystemExit("dense %s: input must be (N, C, 1, 1)" % name)
            y = F.linear(a.flatten(1), params[name + ".weight"], params[name + ".bias"])
            y = y.view(y.shape[0], y.shape[1], 1, 1)
        elif kind == "dropout":
            y = F.dropout(a, float(keys.get("p", 0.5)), training=True) if training else a
        elif kind in LOSS_KINDS:
            if name not in targets:
                continue  # shape-only pass: no targets yet
            t, w = targets[name]
            l = loss_layer(kind, keys, a, t, w)
            total = l if total is None else total + l
            continue
        else:
            raise SystemExit("unknown layer kind %r" % kind)
        outs[name] = y
    return outs, total


def he_init(specs, seed, dtype=torch.float32):
    """Parameters like unsharp_model_create(): He-normal weights (std sqrt(2 / fan_in), fan_in =
    count / shape[0]), zero biases. Same distribution as the engine, not the same numbers."""
    g = torch.Generator().manual_seed(seed)
    params = {}
    for pname, shape in specs:
        if pname.endswith(".bias"):
            params[pname] = torch.zeros(shape, dtype=dtype)
        else:
            fan_in = math.prod(shape) / shape[0]
            params[pname] = torch.randn(shape, generator=g, dtype=torch.float64).mul_(
                math.sqrt(2.0 / fan_in)).to(dtype)
    return params


class UnsharpNet(nn.Module):
    """The network of an architecture text as a torch.nn.Module.

    Parameters live in self.blocks[LAYER].weight / .bias; params() gives them by engine name
    ("LAYER.weight") in architecture order, the order of parameters() as well."""

    def __init__(self, arch, seed=1, dtype=torch.float32):
        super().__init__()
        self.arch = arch
        self.layers = parse_arch(arch)
        self.specs = param_specs(self.layers)
        self.loss_layers = {name: (kind, inputs[0]) for kind, name, inputs, _ in self.layers
                            if kind in LOSS_KINDS}
        self.in_channels = self.layers[0][3]["c"]
        self.blocks = nn.ModuleDict()
        init = he_init(self.specs, seed, dtype)
        for pname, _ in self.specs:
            layer, what = pname.rsplit(".", 1)
            if layer not in self.blocks:
                self.blocks[layer] = nn.Module()
            self.blocks[layer].register_parameter(what, nn.Parameter(init[pname]))
        self.targets = {}

    def params(self):
        """{"LAYER.weight": Parameter, ...} in architecture order."""
        out = {}
        for pname, _ in self.specs:
            layer, what = pname.rsplit(".", 1)
            out[pname] = getattr(self.blocks[layer], what)
        return out

    def set_target(self, loss_layer_name, target, weight=None):
        """Targets for the next forward(training=True), as unsharp_model_set_target() takes
        them (see the module docstring). target and weight are tensors (or array-likes)."""
        if loss_layer_name not in self.loss_layers:
            raise KeyError("no loss layer %r" % loss_layer_name)
        t = torch.as_tensor(target)
        w = None if weight is None else torch.as_tensor(weight)
        self.targets[loss_layer_name] = (t, w)

    def loss(self, outs, targets=None):
        """The summed loss of the loss layers on the outputs of a forward, against targets
        ({name: (target, weight or None)}; default: those given to set_target)."""
        targets = self.targets if targets is None else targets
        total = None
        for kind, name, inputs, keys in self.layers:
            if kind in LOSS_KINDS:
                t, w = targets[name]
                l = loss_layer(kind, keys, outs[inputs[0]], t, w)
                total = l if total is None else total + l
        return total

    def forward(self, x, training=False, targets=None):
        """Returns (outputs of every non-loss layer, loss). With training=True the loss layers
        are evaluated against targets (default: those given to set_target) and dropout is
        applied; otherwise the loss is None."""
        if training:
            targets = self.targets if targets is None else targets
            missing = [n for n in self.loss_layers if n not in targets]
            if missing:
                raise RuntimeError("no targets set for " + ", ".join(missing))
        else:
            targets = {}
        return forward(self.layers, self.params(), x, targets, training=training)

    def output_shapes(self, n, h, w):
        """Shapes of every layer output for an input (n, C, h, w) (a no-grad shape pass)."""
        with torch.no_grad():
            x = torch.zeros(n, self.in_channels, h, w, dtype=next(self.parameters()).dtype)
            outs, _ = forward(self.layers, self.params(), x, {})
        return {k: tuple(v.shape) for k, v in outs.items()}
