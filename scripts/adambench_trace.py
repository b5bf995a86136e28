#!/usr/bin/env python3
"""Record an optimizer inside your own PyTorch training loop, for `adambench check`.

    import adambench_trace
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    rec = adambench_trace.Recorder(opt)          # before the first step: initial params and state
    for x, y in batches:
        opt.zero_grad(); loss_fn(model(x), y).backward()
        rec.step()                               # records every p.grad, then calls opt.step()
    rec.save("TRACE.npz", "RESULT.npz")          # and prints the `adambench check` command line

TRACE.npz holds p0, p1, ... (the parameters before the first recorded step), g0, g1, ... (the
gradients, shape (T, *shape)), and, when the optimizer already had state, m0.., v0.., vmax0.. and
step. RESULT.npz holds the final p0.., m0.., v0.. (vmax0.. with amsgrad) and step. Parameters are
taken in param_groups order; every parameter must receive a gradient at every step.

Command line: `python3 scripts/adambench_trace.py --optimizer adam --steps 20 --out DIR` trains a
small built-in model (a demo and the test of this module); --optimizer wrong uses a hand-written
Adam with eps inside the square root, which `adambench check` must reject.
"""
import argparse
import os
import sys

import numpy as np
import torch


def _np(t):
    return t.detach().cpu().numpy().copy()


class Recorder:
    """Wraps a torch.optim-style optimizer (param_groups, state, step()) for one trace."""

    def __init__(self, optimizer, algo=None):
        self.opt = optimizer
        self.params = [p for g in optimizer.param_groups for p in g["params"]]
        self.algo = algo or ("adamw" if "adamw" in type(optimizer).__name__.lower() else "adam")
        self.p0 = [_np(p) for p in self.params]
        self.initial = self._state() if all(p in optimizer.state and optimizer.state[p] for p in self.params) else None
        self.grads = [[] for _ in self.params]

    def _state(self):
        st = [self.opt.state.get(p, {}) for p in self.params]
        out = {}
        for i, s in enumerate(st):
            if "exp_avg" in s:
                out[f"m{i}"] = _np(s["exp_avg"])
                out[f"v{i}"] = _np(s["exp_avg_sq"])
            if "max_exp_avg_sq" in s:
                out[f"vmax{i}"] = _np(s["max_exp_avg_sq"])
        if st and "step" in st[0]:
            step = st[0]["step"]
            out["step"] = np.array(float(step.item() if torch.is_tensor(step) else step))
        return out

    def step(self, closure=None):
        for i, p in enumerate(self.params):
            if p.grad is None:
                raise ValueError(f"parameter {i} has no gradient at step {len(self.grads[0]) + 1}")
            self.grads[i].append(_np(p.grad))
        return self.opt.step(closure) if closure else self.opt.step()

    def hyperparameters(self):
        g = self.opt.param_groups[0]
        args = ["--algo", self.algo, "--lr", repr(float(g["lr"])), "--beta1", repr(float(g["betas"][0])),
                "--beta2", repr(float(g["betas"][1])), "--eps", repr(float(g["eps"])),
                "--weight-decay", repr(float(g.get("weight_decay", 0.0)))]
        if g.get("amsgrad"):
            args.append("--amsgrad")
        if g.get("maximize"):
            args.append("--maximize")
        return args

    def save(self, trace_path, result_path, quiet=False):
        if not self.grads[0]:
            raise ValueError("no step recorded")
        trace = {f"p{i}": p for i, p in enumerate(self.p0)}
        trace.update({f"g{i}": np.stack(g) for i, g in enumerate(self.grads)})
        if self.initial:
            trace.update(self.initial)
        result = {f"p{i}": _np(p) for i, p in enumerate(self.params)}
        result.update(self._state())
        np.savez(trace_path, **trace)
        np.savez(result_path, **result)
        if not quiet:
            print("adambench check", trace_path, result_path, " ".join(self.hyperparameters()))
        return self.hyperparameters()


class WrongAdam(torch.optim.Optimizer):
    """A hand-written Adam with a planted bug: eps inside the square root."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self):
        for g in self.param_groups:
            b1, b2 = g["betas"]
            for p in g["params"]:
                s = self.state[p]
                if not s:
                    s["step"] = torch.tensor(0.0)
                    s["exp_avg"] = torch.zeros_like(p)
                    s["exp_avg_sq"] = torch.zeros_like(p)
                s["step"] += 1
                t = s["step"].item()
                s["exp_avg"].mul_(b1).add_(p.grad, alpha=1 - b1)
                s["exp_avg_sq"].mul_(b2).addcmul_(p.grad, p.grad, value=1 - b2)
                denom = (s["exp_avg_sq"] / (1 - b2 ** t) + g["eps"]).sqrt()  # the bug
                p.addcdiv_(s["exp_avg"], denom, value=-g["lr"] / (1 - b1 ** t))


def make_optimizer(name, params, lr=1e-2):
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, foreach=False)
    if name == "adam-foreach":
        return torch.optim.Adam(params, lr=lr, foreach=True)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=0.05, foreach=False)
    if name == "adamw-foreach":
        return torch.optim.AdamW(params, lr=lr, weight_decay=0.05, foreach=True)
    if name == "adam-amsgrad":
        return torch.optim.Adam(params, lr=lr, amsgrad=True, foreach=False)
    if name == "wrong":
        return WrongAdam(params, lr=lr, eps=1e-3)
    raise SystemExit(f"adambench_trace: unknown --optimizer {name}")


def demo(optimizer, steps, out, warmup=0, dtype=torch.float32, seed=0):
    """A small MLP regression trained by the user's loop; `warmup` steps before recording make the
    trace start from a saved state (m0, v0, step)."""
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1)).to(dtype)
    x = torch.randn(64, 8, dtype=dtype)
    y = torch.randn(64, 1, dtype=dtype)
    opt = make_optimizer(optimizer, model.parameters())

    def train_step(step_fn):
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        step_fn()

    for _ in range(warmup):
        train_step(opt.step)
    rec = Recorder(opt, algo="adamw" if optimizer.startswith("adamw") else "adam")
    for _ in range(steps):
        train_step(rec.step)
    os.makedirs(out, exist_ok=True)
    return rec.save(os.path.join(out, "TRACE.npz"), os.path.join(out, "RESULT.npz"))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--optimizer", default="adam",
                    help="adam, adam-foreach, adamw, adamw-foreach, adam-amsgrad, or wrong (eps inside the sqrt)")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=0, help="steps before recording (the trace then carries m, v, step)")
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    ap.add_argument("--out", required=True, help="folder for TRACE.npz and RESULT.npz")
    a = ap.parse_args(argv)
    if a.steps < 1:
        ap.error("--steps must be >= 1")
    demo(a.optimizer, a.steps, a.out, a.warmup, getattr(torch, a.dtype))
    return 0


if __name__ == "__main__":
    sys.exit(main())
