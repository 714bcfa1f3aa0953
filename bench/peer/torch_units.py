#!/usr/bin/env python3
"""PyTorch peer of bench/engine.bench.ts: the same units, shapes and FLOPs, float32, one thread.

    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 python3 bench/peer/torch_units.py UNIT [--reps N] [--min-ms MS]

Prints one JSON line: {"unit", "cpu_ms" (median main-thread CPU per call), "wall_ms", "reps", "torch", ...}.
Main-thread CPU is time.thread_time(): on a shared machine it is the single-core-fair measure.

The models are written to the suite's shapes and parameter counts (random weights, synthetic inputs): MLP
784-16-16-10 ReLU (B 64); CNN [conv3x3 8, conv3x3 16] + ReLU + 2x2 max-pool on 32x32x3, dense 10 (B 64, 11,642
parameters); GPT-2 d64 L2 H4, T 64, V 4096, tied head (B 32, 366,336); Llama stories260K (dim 64, 5 layers, 8
heads, 4 kv heads, hidden 172, V 512, tied; B 8, T 64; 260,032). HVPs are double backward
(torch.autograd.grad with create_graph, then a second grad), batched ones with is_grads_batched.
"""
import json
import math
import statistics
import sys
import time

import torch
import torch.nn.functional as F

torch.set_num_threads(1)
torch.manual_seed(0)
DT = torch.float32


def timeit(f, reps, min_ms):
    f()  # warm-up
    cpu, wall = [], []
    for _ in range(reps):
        # Loop each sample to at least min_ms so the 10 ms clock of thread_time is not the measure.
        n = 0
        c0, w0 = time.thread_time(), time.perf_counter()
        while True:
            f()
            n += 1
            if (time.perf_counter() - w0) * 1e3 >= min_ms:
                break
        cpu.append((time.thread_time() - c0) * 1e3 / n)
        wall.append((time.perf_counter() - w0) * 1e3 / n)
    return statistics.median(cpu), statistics.median(wall)


def params_of(shapes):
    return [torch.randn(*s, dtype=DT).mul_(0.05).requires_grad_() for s in shapes]


def hvp_of(loss_fn, ps, v):
    g = torch.autograd.grad(loss_fn(ps), ps, create_graph=True)
    return torch.autograd.grad(g, ps, grad_outputs=v)


# --- models -------------------------------------------------------------------------------------------------
def mlp():
    ps = params_of([(784, 16), (16,), (16, 16), (16,), (16, 10), (10,)])
    x = torch.randn(64, 784, dtype=DT)
    y = torch.randint(0, 10, (64,))

    def loss(p):
        h = F.relu(x @ p[0] + p[1])
        h = F.relu(h @ p[2] + p[3])
        return F.cross_entropy(h @ p[4] + p[5], y)

    return ps, loss


def cnn():
    ps = params_of([(8, 3, 3, 3), (8,), (16, 8, 3, 3), (16,), (1024, 10), (10,)])
    x = torch.randn(64, 3, 32, 32, dtype=DT)
    y = torch.randint(0, 10, (64,))

    def loss(p):
        h = F.max_pool2d(F.relu(F.conv2d(x, p[0], p[1], padding=1)), 2)
        h = F.max_pool2d(F.relu(F.conv2d(h, p[2], p[3], padding=1)), 2)
        return F.cross_entropy(h.flatten(1) @ p[4] + p[5], y)

    return ps, loss


def gpt2():
    V, T, d, H, L, B = 4096, 64, 64, 4, 2, 32
    shapes = [(V, d), (T, d)]
    for _ in range(L):
        shapes += [(d,), (d,), (d, 3 * d), (3 * d,), (d, d), (d,), (d,), (d,), (d, 4 * d), (4 * d,), (4 * d, d), (d,)]
    shapes += [(d,), (d,)]
    ps = params_of(shapes)
    x = torch.randint(0, V, (B, T))
    y = torch.randint(0, V, (B, T))
    mask = torch.triu(torch.full((T, T), float('-inf')), 1)

    def loss(p):
        h = p[0][x] + p[1][:T]
        i = 2
        for _ in range(L):
            ln1w, ln1b, wa, ba, wp, bp, ln2w, ln2b, wf, bf, wo, bo = p[i:i + 12]
            i += 12
            a = F.layer_norm(h, (d,), ln1w, ln1b)
            q, k, v = (a @ wa + ba).split(d, -1)
            q, k, v = (t.view(B, T, H, d // H).transpose(1, 2) for t in (q, k, v))
            att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // H) + mask, -1) @ v
            h = h + att.transpose(1, 2).reshape(B, T, d) @ wp + bp
            m = F.layer_norm(h, (d,), ln2w, ln2b)
            h = h + F.gelu(m @ wf + bf, approximate='tanh') @ wo + bo
        h = F.layer_norm(h, (d,), p[i], p[i + 1])
        return F.cross_entropy((h @ p[0].t()).view(B * T, V), y.view(-1))

    return ps, loss


def llama():
    V, T, d, L, H, Hkv, hid, B = 512, 64, 64, 5, 8, 4, 172, 8
    hd = d // H
    shapes = [(V, d)]
    for _ in range(L):
        shapes += [(d,), (d, d), (d, Hkv * hd), (d, Hkv * hd), (d, d), (d,), (d, hid), (d, hid), (hid, d)]
    shapes += [(d,)]
    ps = params_of(shapes)
    x = torch.randint(0, V, (B, T))
    y = torch.randint(0, V, (B, T))
    inv = 1.0 / (10000 ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    ang = torch.arange(T, dtype=torch.float64)[:, None] * inv[None]
    cos, sin = ang.cos().to(DT), ang.sin().to(DT)
    mask = torch.triu(torch.full((T, T), float('-inf')), 1)

    def rms(h, w):
        return h * torch.rsqrt(h.pow(2).mean(-1, keepdim=True) + 1e-5) * w

    def rope(t):  # interleaved pairs, as llama.cpp / stories260K
        t0, t1 = t[..., 0::2], t[..., 1::2]
        return torch.stack((t0 * cos - t1 * sin, t0 * sin + t1 * cos), -1).flatten(-2)

    def loss(p):
        h = p[0][x]
        i = 1
        for _ in range(L):
            an, wq, wk, wv, wo, fn, wg, wu, wd = p[i:i + 9]
            i += 9
            a = rms(h, an)
            q = rope((a @ wq).view(B, T, H, hd).transpose(1, 2))
            k = rope((a @ wk).view(B, T, Hkv, hd).transpose(1, 2)).repeat_interleave(H // Hkv, 1)
            v = (a @ wv).view(B, T, Hkv, hd).transpose(1, 2).repeat_interleave(H // Hkv, 1)
            att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd) + mask, -1) @ v
            h = h + att.transpose(1, 2).reshape(B, T, d) @ wo
            m = rms(h, fn)
            h = h + (F.silu(m @ wg) * (m @ wu)) @ wd
        h = rms(h, p[i])
        return F.cross_entropy((h @ p[0].t()).view(B * T, V), y.view(-1))

    return ps, loss


MODELS = {'mlp': mlp, 'cnn': cnn, 'gpt2': gpt2, 'llama': llama}


# --- units ----------------------------------------------------------------------------------------------------
def unit_gemm(n=1024):
    a, b = torch.randn(n, n, dtype=DT), torch.randn(n, n, dtype=DT)
    return (lambda: a @ b), 2 * n ** 3


def unit_grad(name):
    ps, loss = MODELS[name]()
    return (lambda: torch.autograd.grad(loss(ps), ps)), None


def unit_hvp(name):
    ps, loss = MODELS[name]()
    v = [torch.randn_like(p) for p in ps]
    return (lambda: hvp_of(loss, ps, v)), None


def unit_hvp_shared(name, K=16):
    """K exact HVPs through one taped gradient (create_graph once, K backward passes), per direction."""
    ps, loss = MODELS[name]()
    V = [[torch.randn_like(p) for p in ps] for _ in range(K)]

    def f():
        g = torch.autograd.grad(loss(ps), ps, create_graph=True)
        return [torch.autograd.grad(g, ps, grad_outputs=v, retain_graph=True) for v in V]

    return f, None, K


def unit_mlp_step():
    """One AdamW training step of the MLP (B 64), as the trainer takes it."""
    ps, loss = mlp()
    opt = torch.optim.AdamW(ps, lr=1e-3, betas=(0.9, 0.95), eps=1e-8, weight_decay=0)

    def step():
        opt.zero_grad(set_to_none=True)
        loss(ps).backward()
        opt.step()

    return step, None


def unit_mlp_hvp_batched(K=64):
    """K exact HVPs in one batched double backward (is_grads_batched)."""
    ps, loss = mlp()
    V = [torch.randn(K, *p.shape, dtype=DT) for p in ps]

    def f():
        g = torch.autograd.grad(loss(ps), ps, create_graph=True)
        return torch.autograd.grad(g, ps, grad_outputs=V, is_grads_batched=True)

    return f, None


def unit_mlp_sweep(N=50, steps=10, beta1=0.9, beta2=0.95, eps=1e-8, lr=1e-3):
    """AdamW-influence exact sweep, per query·step: coupling, batched HVP, transition, scores of 16 samples."""
    ps, loss = mlp()
    p = sum(t.numel() for t in ps)
    U = [torch.randn(N, p, dtype=DT) for _ in range(3)]
    m = torch.randn(p, dtype=DT).mul_(1e-3)
    v = torch.rand(p, dtype=DT).mul_(1e-6)
    Gz = torch.randn(16, p, dtype=DT)
    shapes = [t.shape for t in ps]

    def one_step():
        k = 10
        bc1, bc2 = 1 - beta1 ** k, 1 - beta2 ** k
        vh = v / bc2
        sv = vh.sqrt()
        D = 1 / (sv + eps)
        S = torch.where(vh > 0, m / bc1 / (2 * sv * (sv + eps) ** 2), torch.zeros_like(vh))
        g = torch.cat([t.flatten() for t in torch.autograd.grad(loss(ps), ps)])
        a = (-lr * (1 - beta1) / bc1 * D + 2 * lr * (1 - beta2) / bc2 * S * g) * U[0] + (1 - beta1) * U[1] + 2 * (1 - beta2) * g * U[2]
        scores = -(a @ Gz.t()) / 64
        gg = torch.autograd.grad(loss(ps), ps, create_graph=True)
        parts = list(torch.split(a, [math.prod(s) for s in shapes], 1))
        Ha = torch.autograd.grad(gg, ps, grad_outputs=[t.view(N, *s) for t, s in zip(parts, shapes)], is_grads_batched=True)
        Ha = torch.cat([t.reshape(N, -1) for t in Ha], 1)
        ut = U[0]
        U[1] = (-lr * beta1 / bc1) * D * ut + beta1 * U[1]
        U[2] = (lr * beta2 / bc2) * S * ut + beta2 * U[2]
        U[0] = ut + Ha
        return scores

    def f():
        for _ in range(steps):
            one_step()

    return f, None, N * steps


def unit_tsloo(R=32, steps=94):
    """Vectorised leave-one-out: R MLP replicas trained together (bmm), per replica-run of `steps` AdamW steps."""
    x = torch.randn(64, 784, dtype=DT)
    y = torch.randint(0, 10, (64,))
    shapes = [(784, 16), (16,), (16, 16), (16,), (16, 10), (10,)]

    def run():
        ps = [torch.randn(R, *s, dtype=DT).mul_(0.05).requires_grad_() for s in shapes]
        opt = torch.optim.AdamW(ps, lr=1e-3, betas=(0.9, 0.95), eps=1e-8, weight_decay=0)
        w = torch.ones(R, 64)
        for _ in range(steps):
            opt.zero_grad(set_to_none=True)
            h = F.relu(torch.einsum('bi,rio->rbo', x, ps[0]) + ps[1][:, None])
            h = F.relu(torch.bmm(h, ps[2]) + ps[3][:, None])
            z = torch.bmm(h, ps[4]) + ps[5][:, None]
            l = F.cross_entropy(z.reshape(R * 64, 10), y.repeat(R), reduction='none').view(R, 64)
            (l * w).sum().div(64).backward()
            opt.step()

    return run, None, R


UNITS = {
    'gemm': unit_gemm,
    'mlp-step': unit_mlp_step,
    'mlp-hvp-k64': unit_mlp_hvp_batched,
    'mlp-sweep': unit_mlp_sweep,
    'tsloo-mlp': unit_tsloo,
    **{f'{m}-grad': (lambda m=m: unit_grad(m)) for m in MODELS},
    **{f'{m}-hvp': (lambda m=m: unit_hvp(m)) for m in MODELS},
    **{f'{m}-hvp-k16': (lambda m=m: unit_hvp_shared(m)) for m in MODELS if m != 'mlp'},
}


def main():
    args = sys.argv[1:]
    if not args or args[0] not in UNITS:
        print(f'usage: torch_units.py UNIT [--reps N] [--min-ms MS]; units: {", ".join(UNITS)}', file=sys.stderr)
        sys.exit(2)
    name = args[0]
    reps = int(args[args.index('--reps') + 1]) if '--reps' in args else 5
    min_ms = float(args[args.index('--min-ms') + 1]) if '--min-ms' in args else 200.0
    made = UNITS[name]()
    f, flops = made[0], made[1]
    per = made[2] if len(made) > 2 else 1
    cpu, wall = timeit(f, reps, min_ms)
    out = {'unit': name, 'cpu_ms': cpu / per, 'wall_ms': wall / per, 'per_call_units': per, 'reps': reps, 'torch': torch.__version__, 'threads': torch.get_num_threads()}
    if flops:
        out['gflops'] = flops / (cpu * 1e6)
    print(json.dumps(out))


if __name__ == '__main__':
    main()
