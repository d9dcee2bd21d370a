"""Graph surgery for scripts/build-models: exact rewrites, calibration probes and static int8 QDQ quantization.

  /usr/bin/python3 scripts/models/graph.py rewrite  SRC.onnx OUT.onnx          exact fp32 rewrites, opset 13
  /usr/bin/python3 scripts/models/graph.py probe    IN.onnx OUT.onnx TENSORS.json OPTS  IN + every tensor to calibrate as an output
  /usr/bin/python3 scripts/models/graph.py pad      IN.onnx OUT.onnx BLOCK         zero channels up to multiples of BLOCK (exact)
  /usr/bin/python3 scripts/models/graph.py quantize IN.onnx RANGES.json OUT.onnx OPTS   QDQ int8 from calibrated ranges
  /usr/bin/python3 scripts/models/graph.py nodes    IN.onnx OPTS                  names of the ops OPTS quantizes
  OPTS: JSON {"float_depthwise": bool, "float_first": int, "float_heads": bool, "float_nodes": [name]} (see quantizable)

Needs Debian's python3-onnx and python3-numpy (no onnxruntime for Python: calibration and evaluation run on
onnxruntime-node in TypeScript). Deterministic: the same input bytes give the same output bytes (fixed node order,
fixed names, no timestamps).

Exact rewrites (outputs equal within float rounding):
  - Reshape shapes computed by Shape/Gather/Unsqueeze/Concat become constants (batch kept by Reshape's 0 rule), then
    opset 9 -> 13 by onnx.version_converter (Slice attributes become inputs, Unsqueeze axes an input, Softmax 12->13
    with the now-known rank): per-channel DequantizeLinear (axis) needs opset 13.
  - cross-layer equalization of conv -> Relu/PRelu -> conv pairs (see equalize).
  - pruning of depthwise channels whose weights are all (effectively) zero: such a channel outputs its bias whatever
    its input, so the channel of the producing conv, both per-channel activations and the depthwise channel are
    removed and the constant act(bias) is folded into the bias of the 1x1 conv that consumes it (in multiples of 8).
  - PRelu(x, a) -> s * Max(y, a*y) with y = s*x, s = -1 on channels whose slope exceeds 1 (there min(x, a x) is the
    PRelu) and +1 elsewhere (Max(x, a x) is PRelu for any a <= 1, negative slopes included); s is folded into the
    producing conv's output channel and the consuming conv's input channel (group-1 or depthwise), so no Mul by s
    remains. A PRelu whose neighbours are not such convs is left as it is.
"""
import json
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, version_converter

ZERO_WEIGHT = 1e-12  # |w| below this counts as zero: such weights change no float32 sum that matters
QUANT_OPS = {'Conv', 'Gemm', 'MatMul'}


class G:
    """Index over a graph: initializers by name, producer and consumers per tensor."""

    def __init__(self, model):
        self.model = model
        self.graph = model.graph
        self.refresh()

    def refresh(self):
        self.init = {i.name: i for i in self.graph.initializer}
        self.prod = {o: n for n in self.graph.node for o in n.output}
        self.cons = {}
        for n in self.graph.node:
            for i in n.input:
                self.cons.setdefault(i, []).append(n)
        self.outputs = {o.name for o in self.graph.output}

    def arr(self, name):
        return numpy_helper.to_array(self.init[name]).astype(np.float32) if name in self.init else None

    def set_arr(self, name, value):
        t = numpy_helper.from_array(np.ascontiguousarray(value), name)
        self.init[name].CopyFrom(t)

    def only_consumer(self, tensor):
        c = self.cons.get(tensor, [])
        return c[0] if len(c) == 1 and tensor not in self.outputs else None


def attr(node, name, default=None):
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def set_attr(node, name, value):
    for a in list(node.attribute):
        if a.name == name:
            node.attribute.remove(a)
    node.attribute.append(helper.make_attribute(name, value))


def is_pointwise(g, node):
    w = g.arr(node.input[1])
    pads = attr(node, 'pads', [0, 0, 0, 0])
    return w is not None and w.shape[2:] == (1, 1) and attr(node, 'group', 1) == 1 and not any(pads)


def is_depthwise(g, node):
    w = g.arr(node.input[1])
    return w is not None and w.shape[1] == 1 and attr(node, 'group', 1) == w.shape[0] > 1


def slice_channel_param(g, name, keep):
    """Keep channels `keep` of a per-channel parameter (PRelu slope [C,1,1], conv weight/bias on axis 0)."""
    g.set_arr(name, g.arr(name)[keep])


def prune_zero_depthwise(g):
    """A -> act1 -> DW -> act2 -> P (1x1): drop DW channels with all-zero weights (see module doc)."""
    pruned = {}
    for dw in list(g.graph.node):
        if dw.op_type != 'Conv' or not is_depthwise(g, dw) or len(dw.input) < 3:
            continue
        w = g.arr(dw.input[1])
        zero = np.abs(w).reshape(w.shape[0], -1).max(1) <= ZERO_WEIGHT
        if not zero.any():
            continue
        act1 = g.prod.get(dw.input[0])
        act2 = g.only_consumer(dw.output[0])
        if act1 is None or act2 is None or act1.op_type not in ('PRelu', 'Relu') or act2.op_type not in ('PRelu', 'Relu'):
            continue
        a = g.prod.get(act1.input[0])
        p = g.only_consumer(act2.output[0])
        if a is None or a.op_type != 'Conv' or g.only_consumer(a.output[0]) is not act1 or g.only_consumer(act1.output[0]) is not dw:
            continue
        if p is None or p.op_type != 'Conv' or not is_pointwise(g, p) or len(a.input) < 3:
            continue
        # keep a multiple of 8 channels: onnxruntime's blocked (NCHWc) conv kernels take channels in 8s/16s, and
        # an odd count falls back to slower paths that cost more than the pruned work saves
        extra = (-int((~zero).sum())) % 8
        zero[np.nonzero(zero)[0][:extra]] = False
        if not zero.any():
            continue
        keep = np.nonzero(~zero)[0]
        const = g.arr(dw.input[2])[zero]
        if act2.op_type == 'PRelu':
            slope = g.arr(act2.input[1]).reshape(-1)[zero]
            const = np.where(const >= 0, const, slope * const)
        else:
            const = np.maximum(const, 0)
        pw = g.arr(p.input[1])
        if len(p.input) < 3:
            continue
        g.set_arr(p.input[2], g.arr(p.input[2]) + pw[:, zero, 0, 0] @ const)
        g.set_arr(p.input[1], pw[:, keep])
        for conv in (a, dw):
            slice_channel_param(g, conv.input[1], keep)
            slice_channel_param(g, conv.input[2], keep)
        set_attr(dw, 'group', int(len(keep)))
        for act in (act1, act2):
            if act.op_type == 'PRelu':
                slice_channel_param(g, act.input[1], keep)
        pruned[dw.name] = int(zero.sum())
    return pruned


def channel_space(g, conv, c):
    """The tensors that carry `conv`'s c output channels, channel for channel: through per-channel Mul constants
    ([c,1,1]), Max/Add/Relu of such tensors only, and depthwise convs of c channels, up to the group-1 convs that read
    them. Returns (per-channel constants, depthwise convs, reading convs), or None when the channels reach any other op,
    a graph output, or an op that also reads a tensor from elsewhere."""
    space, todo = {conv.output[0]}, [conv.output[0]]
    consts, dws, readers, inside = [], [], [], []
    while todo:
        t = todo.pop()
        if t in g.outputs:
            return None
        for n in g.cons.get(t, []):
            if n in readers or n in dws or n in inside:
                continue
            params = [i for i in n.input if i in g.init]
            if n.op_type == 'Conv' and attr(n, 'group', 1) == 1 and n.input[0] == t:
                readers.append(n)
                continue
            if n.op_type == 'Conv' and is_depthwise(g, n) and g.arr(n.input[1]).shape[0] == c:
                dws.append(n)
            elif n.op_type == 'Mul' and len(params) == 1 and g.arr(params[0]).shape == (c, 1, 1):
                consts.append(params[0])
                inside.append(n)
            elif n.op_type in ('Max', 'Add', 'Relu') and not params:
                inside.append(n)
            else:
                return None
            for o in n.output:
                if o not in space:
                    space.add(o)
                    todo.append(o)
    if any(i not in space for n in inside for i in n.input if i and i not in g.init):
        return None
    return consts, dws, readers


def pad_channels(g, block):
    """Zero channels up to a multiple of `block`, exactly: a group-1 conv whose output channel count c is not a
    multiple gets zero filters (zero bias), its channel space (channel_space) zero per-channel constants and
    depthwise channels, and the convs reading it zero input columns. A padded channel is 0 all the way (act(0) = 0)
    and is read with weight 0, so every original value is computed by the same arithmetic. Why: onnxruntime's
    blocked (NCHWc) x86 conv kernels take channels in 8s; MiniFASNet's pruned counts (103, 13, 231, ...) fall back to
    slower paths that cost more than the zero channels add."""
    padded = {}
    for a in list(g.graph.node):
        if a.op_type != 'Conv' or attr(a, 'group', 1) != 1 or a.input[1] not in g.init:
            continue
        c = g.arr(a.input[1]).shape[0]
        k = (-c) % block
        found = channel_space(g, a, c) if k else None
        if found is None:
            continue
        consts, dws, readers = found
        params = [a.input[1], *a.input[2:3], *consts, *(p for d in dws for p in d.input[1:3])]
        if any(len(g.cons.get(p, [])) != 1 for p in params + [r.input[1] for r in readers]):
            continue
        for p in params:
            v = g.arr(p)
            g.set_arr(p, np.concatenate([v, np.zeros((k, *v.shape[1:]), np.float32)]))
        for d in dws:
            set_attr(d, 'group', c + k)
        for r in readers:
            w = g.arr(r.input[1])
            g.set_arr(r.input[1], np.concatenate([w, np.zeros((w.shape[0], k, *w.shape[2:]), np.float32)], axis=1))
        padded[a.name] = c + k
    return padded


def pad(src, out, block):
    model = onnx.load(src)
    padded = pad_channels(G(model), block)
    onnx.checker.check_model(model)
    onnx.save(model, out)
    print(json.dumps({'out': out, 'paddedConvs': len(padded), 'channels': padded}))


def prelu_to_max(g):
    """PRelu(x, a) -> Max(y, Mul(y, a')) with per-channel sign folding (see module doc)."""
    rewritten = 0
    nodes = list(g.graph.node)
    for n in nodes:
        if n.op_type != 'PRelu':
            continue
        slope = g.arr(n.input[1])
        if slope is None:
            continue
        flat = slope.reshape(-1)
        flip = flat > 1
        if flip.any():
            a = g.prod.get(n.input[0])
            c = g.only_consumer(n.output[0])
            if not (a is not None and a.op_type == 'Conv' and g.only_consumer(a.output[0]) is n and len(a.input) == 3
                    and c is not None and c.op_type == 'Conv' and (attr(c, 'group', 1) == 1 or is_depthwise(g, c))):
                continue  # cannot fold the sign; keep this PRelu as it is
            s = np.where(flip, -1.0, 1.0).astype(np.float32)
            w = g.arr(a.input[1])
            g.set_arr(a.input[1], w * s.reshape(-1, 1, 1, 1))
            g.set_arr(a.input[2], g.arr(a.input[2]) * s)
            # input channel c of the consumer reads s_c * PRelu: a group-1 conv flips weight column c, a depthwise
            # conv its channel c. The slope stays a: s*Max(s x, s a x) = min(x, a x) = PRelu(x, a) where a > 1.
            cw = g.arr(c.input[1])
            g.set_arr(c.input[1], cw * (s.reshape(-1, 1, 1, 1) if is_depthwise(g, c) else s.reshape(1, -1, 1, 1)))
        scaled = n.output[0] + '_ax'
        idx = list(g.graph.node).index(n)
        mul = helper.make_node('Mul', [n.input[0], n.input[1]], [scaled], name=n.name + '_mul')
        mx = helper.make_node('Max', [n.input[0], scaled], [n.output[0]], name=n.name + '_max')
        g.graph.node.remove(n)
        g.graph.node.insert(idx, mx)
        g.graph.node.insert(idx, mul)
        rewritten += 1
        g.refresh()
    return rewritten


def const_value(g, name):
    """The value of an initializer or a Constant node's output, else None."""
    if name in g.init:
        return numpy_helper.to_array(g.init[name])
    p = g.prod.get(name)
    if p is not None and p.op_type == 'Constant':
        return numpy_helper.to_array(attr(p, 'value'))
    return None


def static_reshapes(g):
    """Reshape(x, Concat(Unsqueeze(Gather(Shape(x'), 0)), c...)) -> Reshape(x, [0, c...]): the batch dimension is read
    from the shape by Reshape's own 0 (copy) rule instead of a Shape/Gather/Unsqueeze chain. Exact; it gives shape
    inference static shapes, which the opset 13 conversion needs (Softmax 12->13 must know the rank)."""
    count = 0
    for n in list(g.graph.node):
        if n.op_type != 'Reshape':
            continue
        cat = g.prod.get(n.input[1])
        if cat is None or cat.op_type != 'Concat':
            continue
        uns = g.prod.get(cat.input[0])
        gat = g.prod.get(uns.input[0]) if uns is not None and uns.op_type == 'Unsqueeze' else None
        shp = g.prod.get(gat.input[0]) if gat is not None and gat.op_type == 'Gather' else None
        if shp is None or shp.op_type != 'Shape' or shp.input[0] != n.input[0]:
            continue
        idx = const_value(g, gat.input[1])
        rest = [const_value(g, c) for c in cat.input[1:]]
        if idx is None or int(idx) != 0 or any(r is None for r in rest):
            continue
        name = n.input[1] + '_static'
        shape = np.concatenate([np.zeros(1, np.int64)] + [r.astype(np.int64).reshape(-1) for r in rest])
        g.graph.initializer.append(numpy_helper.from_array(shape, name))
        n.input[1] = name
        count += 1
    g.refresh()
    remove_dead(g)
    return count


def remove_dead(g):
    """Drop nodes whose outputs nothing reads, and unread initializers."""
    while True:
        g.refresh()
        dead = [n for n in g.graph.node if not any(o in g.cons or o in g.outputs for o in n.output)]
        if not dead:
            break
        for n in dead:
            g.graph.node.remove(n)
    used = {i for n in g.graph.node for i in n.input}
    keep = [i for i in g.graph.initializer if i.name in used]
    del g.graph.initializer[:]
    g.graph.initializer.extend(keep)
    g.refresh()


def equalize_pairs(g):
    """conv1 -> (Relu | PRelu) -> conv2 pairs whose channel c runs through a positively homogeneous activation."""
    pairs = []
    for a in g.graph.node:
        if a.op_type != 'Conv' or len(a.input) < 3 or a.input[1] not in g.init:
            continue
        act = g.only_consumer(a.output[0])
        if act is None or act.op_type not in ('Relu', 'PRelu') or (act.op_type == 'PRelu' and act.input[1] not in g.init):
            continue
        b = g.only_consumer(act.output[0])
        if b is None or b.op_type != 'Conv' or b.input[1] not in g.init:
            continue
        if not (is_depthwise(g, b) or attr(b, 'group', 1) == 1):
            continue
        pairs.append((a, b))
    return pairs


def equalize(g, rounds=20):
    """Cross-layer equalization (Nagel et al. 2019, arXiv:1906.04721): for conv1 -> act -> conv2 with act(s x) =
    s act(x) for s > 0 (Relu, PRelu), scale channel c by 1/s_c in conv1 (weights and bias) and by s_c in conv2's
    input channel, s_c = sqrt(r1_c / r2_c), so both weight ranges become sqrt(r1_c r2_c). Exact in real arithmetic;
    per-channel ranges even out, which per-tensor activation and per-channel weight quantization need."""
    pairs = equalize_pairs(g)
    for _ in range(rounds):
        for a, b in pairs:
            w1 = g.arr(a.input[1])
            w2 = g.arr(b.input[1])
            r1 = np.abs(w1).reshape(w1.shape[0], -1).max(1)
            dw = is_depthwise(g, b)
            r2 = np.abs(w2).reshape(w2.shape[0], -1).max(1) if dw else np.abs(w2).transpose(1, 0, 2, 3).reshape(w2.shape[1], -1).max(1)
            ok = (r1 > 0) & (r2 > 0)
            sc = np.ones_like(r1)
            sc[ok] = np.sqrt(r1[ok] / r2[ok])
            sc = sc.astype(np.float32)
            g.set_arr(a.input[1], w1 / sc.reshape(-1, 1, 1, 1))
            g.set_arr(a.input[2], g.arr(a.input[2]) / sc)
            g.set_arr(b.input[1], w2 * (sc.reshape(-1, 1, 1, 1) if dw else sc.reshape(1, -1, 1, 1)))
    return len(pairs)


def rewrite(src, out):
    model = onnx.load(src)
    reshapes = static_reshapes(G(model))
    if model.opset_import[0].version < 13:
        # the Softmax 12->13 adapter needs the input's rank: infer shapes first (fixed input shapes here)
        model = version_converter.convert_version(onnx.shape_inference.infer_shapes(model), 13)
        del model.graph.value_info[:]
    model.ir_version = 7
    g = G(model)
    pruned = prune_zero_depthwise(g)
    g.refresh()
    equalized = equalize(g)
    prelus = prelu_to_max(g)
    onnx.checker.check_model(model)
    onnx.save(model, out)
    print(json.dumps({'out': out, 'prunedChannels': sum(pruned.values()), 'prunedConvs': len(pruned), 'prelu': prelus, 'staticReshapes': reshapes, 'equalizedPairs': equalized}))


# ---------------------------------------------------------------- quantization

def quantizable(g, n, opts):
    """Whether `n` runs in int8. Mixed precision by measurement (scripts/build-models.ts RECIPES): depthwise convs
    (per-tensor uint8 outputs of depthwise convs lose the small channels next to large ones) and the first
    `float_first` weighted ops (the stem, where the image's detail is) may stay float, and so may the named
    `float_nodes` (the layers a per-layer sensitivity sweep found most sensitive: scripts/models/sweep.ts)."""
    if n.op_type not in QUANT_OPS or n.input[1] not in g.init:
        return False
    if opts.get('float_depthwise') and n.op_type == 'Conv' and is_depthwise(g, n):
        return False
    weighted = [m.name for m in g.graph.node if m.op_type in QUANT_OPS and m.input[1] in g.init]
    if n.name in weighted[:opts.get('float_first', 0)]:
        return False
    if n.name in opts.get('float_nodes', ()):
        return False
    return not opts.get('float_heads') or feeds_weighted(g)[n.output[0]]


def feeds_weighted(g):
    """Per tensor: whether some weighted op (Conv/Gemm/MatMul) reads it, directly or through other ops. Ops whose
    output reaches none are heads (outputs, in-graph box decoding): with `float_heads` they stay float, so the
    quantized part is the backbone."""
    reach = {}
    for n in reversed(list(g.graph.node)):
        for o in n.output:
            reach[o] = any((c.op_type in QUANT_OPS and c.input[1] in g.init) or any(reach.get(x, False) for x in c.output)
                           for c in g.cons.get(o, []))
    return reach


def quant_plan(g, opts):
    """The tensors whose activations are quantized: every float input and output of a Conv/Gemm/MatMul, with a
    Relu directly after a conv absorbed into the output's Q (a uint8 Q with zero point 0 clips at 0 exactly)."""
    acts = []
    seen = set()

    def add(t):
        if t not in seen and t not in g.init and t:
            seen.add(t)
            acts.append(t)

    for n in g.graph.node:
        if not quantizable(g, n, opts):
            continue
        add(n.input[0])
        out = n.output[0]
        relu = g.only_consumer(out)
        add(relu.output[0] if relu is not None and relu.op_type == 'Relu' else out)
    return acts


def probe(src, out, tensors_json, opts):
    model = onnx.load(src)
    g = G(model)
    acts = quant_plan(g, opts)
    existing = {o.name for o in model.graph.output}
    for t in acts:
        if t not in existing:
            model.graph.output.append(helper.make_tensor_value_info(t, onnx.TensorProto.FLOAT, None))
    onnx.save(model, out)
    with open(tensors_json, 'w') as f:
        json.dump(acts, f)


def act_qparams(lo, hi):
    """uint8 asymmetric parameters covering [lo, hi] (always containing 0, as zero padding must be exact)."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    scale = max((hi - lo) / 255.0, 1e-8)
    zp = int(np.clip(round(-lo / scale), 0, 255))
    return np.float32(scale), np.uint8(zp)


def quantize(src, ranges_json, out, opts):
    model = onnx.load(src)
    with open(ranges_json) as f:
        ranges = json.load(f)
    g = G(model)
    acts = quant_plan(g, opts)
    qp = {t: act_qparams(*ranges[t]) for t in acts}
    new_inits = []
    # Relu absorbed into the Q after its conv: consumers of the relu output read the conv output's QDQ instead.
    absorbed = {}
    for n in list(g.graph.node):
        if n.op_type == 'Relu' and n.output[0] in qp:
            p = g.prod.get(n.input[0])
            if p is not None and p.op_type in QUANT_OPS and g.only_consumer(n.input[0]) is n:
                absorbed[n.output[0]] = n.input[0]
                g.graph.node.remove(n)
    # Q -> DQ after each activation; consumers are rewired to the DQ output.
    dq_of = {}
    for t in acts:
        scale, zp = qp[t]
        src_t = absorbed.get(t, t)
        sn, zn = t + '_scale', t + '_zp'
        new_inits += [numpy_helper.from_array(np.array(scale, np.float32), sn), numpy_helper.from_array(np.array(zp, np.uint8), zn)]
        q = helper.make_node('QuantizeLinear', [src_t, sn, zn], [t + '_q'], name=t + '_Q')
        dq = helper.make_node('DequantizeLinear', [t + '_q', sn, zn], [t + '_dq'], name=t + '_DQ')
        dq_of[t] = (q, dq)
    g.refresh()
    graph_outputs = {o.name for o in model.graph.output}
    for n in g.graph.node:
        for i, name in enumerate(n.input):
            if name in dq_of:  # absorbed relu outputs are in dq_of too: their readers take the conv output's QDQ
                n.input[i] = name + '_dq'
    # weights: int8 symmetric per output channel; bias int32 at scale x_scale * w_scale
    for n in list(g.graph.node):
        if not quantizable(g, n, opts):
            continue
        x = n.input[0][:-3] if n.input[0].endswith('_dq') else None
        if x not in qp:
            continue
        w = g.arr(n.input[1])
        axis = 0 if n.op_type == 'Conv' else (0 if attr(n, 'transB', 0) else 1)
        if n.op_type == 'MatMul':
            axis = 1
        wc = np.moveaxis(w, axis, 0).reshape(w.shape[axis], -1)
        bias = g.arr(n.input[2]) if len(n.input) > 2 and n.input[2] in g.init else None
        amax = np.abs(wc).max(1)
        ws = amax / 127.0
        # floor: a near-zero channel gets a scale that still keeps its int32 bias in range and is not denormal
        floor = np.float32(np.max(ws) * 1e-6)
        if bias is not None:
            floor = np.maximum(floor, np.abs(bias) / (qp[x][0] * 2.0 ** 30))
        ws = np.maximum(ws, floor).astype(np.float32)
        shape = [1] * w.ndim
        shape[axis] = -1
        wq = np.clip(np.round(w / ws.reshape(shape)), -127, 127).astype(np.int8)
        wn = n.input[1]
        new_inits += [numpy_helper.from_array(wq, wn + '_i8'), numpy_helper.from_array(ws, wn + '_wscale'),
                      numpy_helper.from_array(np.zeros(ws.shape, np.int8), wn + '_wzp')]
        wdq = helper.make_node('DequantizeLinear', [wn + '_i8', wn + '_wscale', wn + '_wzp'], [wn + '_wdq'],
                               name=wn + '_DQ', axis=axis)
        n.input[1] = wn + '_wdq'
        extra = [wdq]
        if bias is not None:
            bs = (qp[x][0] * ws).astype(np.float32)
            bq = np.round(bias / bs).astype(np.int32)
            bn = n.input[2]
            new_inits += [numpy_helper.from_array(bq, bn + '_i32'), numpy_helper.from_array(bs, bn + '_bscale'),
                          numpy_helper.from_array(np.zeros(bs.shape, np.int32), bn + '_bzp')]
            extra.append(helper.make_node('DequantizeLinear', [bn + '_i32', bn + '_bscale', bn + '_bzp'], [bn + '_bdq'],
                                          name=bn + '_DQ', axis=0))
            n.input[2] = bn + '_bdq'
        dq_of[wn] = tuple(extra)
    # Emit nodes in topological order: each Q/DQ pair right after its producer (or first for graph inputs).
    order = []
    pending_by_src = {}
    for t, pair in dq_of.items():
        if t in g.init:
            order.extend(pair)
            continue
        pending_by_src.setdefault(absorbed.get(t, t), []).extend(pair)
    for i in model.graph.input:
        order.extend(pending_by_src.pop(i.name, []))
    for n in g.graph.node:
        order.append(n)
        for o in n.output:
            order.extend(pending_by_src.pop(o, []))
    assert not pending_by_src, f'unplaced QDQ for {list(pending_by_src)}'
    # a quantized tensor that is also a graph output stays the float producer's output; only readers take the DQ
    del model.graph.node[:]
    model.graph.node.extend(order)
    used = {i for n in order for i in n.input}
    keep = [i for i in model.graph.initializer if i.name in used]
    del model.graph.initializer[:]
    model.graph.initializer.extend(keep + [i for i in new_inits if i.name in used])
    assert not (graph_outputs & set(absorbed)), 'a graph output cannot be an absorbed relu'
    onnx.checker.check_model(model)
    onnx.save(model, out)


if __name__ == '__main__':
    cmd = sys.argv[1]
    if cmd == 'rewrite':
        rewrite(sys.argv[2], sys.argv[3])
    elif cmd == 'probe':
        probe(sys.argv[2], sys.argv[3], sys.argv[4], json.loads(sys.argv[5]))
    elif cmd == 'pad':
        pad(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif cmd == 'quantize':
        quantize(sys.argv[2], sys.argv[3], sys.argv[4], json.loads(sys.argv[5]))
    elif cmd == 'nodes':
        g = G(onnx.load(sys.argv[2]))
        opts = json.loads(sys.argv[3])
        print(json.dumps([n.name for n in g.graph.node if quantizable(g, n, opts)]))
    elif cmd == 'version':
        print(onnx.__version__)
    else:
        sys.exit(f'unknown command {cmd}')
