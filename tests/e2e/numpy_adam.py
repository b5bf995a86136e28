"""An independent float64 Adam/AdamW in numpy, written from torch/optim/adam.py and adamw.py
(PyTorch 2.x, _single_tensor_adam), used to check `adambench replay` end to end."""
import numpy as np


def lerp(a, b, w):
    # ATen's two-branch lerp (aten/src/ATen/native/Lerp.h)
    return a + w * (b - a) if abs(w) < 0.5 else b - (b - a) * (1 - w)


def adam(params, grads, steps, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
         amsgrad=False, maximize=False, decoupled=False):
    b1, b2 = betas
    p = [x.astype(np.float64) for x in params]
    m = [np.zeros_like(x) for x in p]
    v = [np.zeros_like(x) for x in p]
    vmax = [np.zeros_like(x) for x in p]
    with np.errstate(all="ignore"):
        for t in range(1, steps + 1):
            for i in range(len(p)):
                g = grads[i][t - 1].astype(np.float64)
                if maximize:
                    g = -g
                if decoupled:
                    p[i] = p[i] * (1 - lr * weight_decay)
                elif weight_decay != 0:
                    g = g + weight_decay * p[i]
                m[i] = lerp(m[i], g, 1 - b1)
                v[i] = v[i] * b2 + (1 - b2) * g * g
                bc1 = 1 - b1 ** t
                bc2 = 1 - b2 ** t
                vh = v[i]
                if amsgrad:
                    vmax[i] = np.where(np.isnan(vmax[i]) | np.isnan(v[i]), np.nan, np.maximum(vmax[i], v[i]))
                    vh = vmax[i]
                denom = np.sqrt(vh) / np.sqrt(bc2) + eps
                p[i] = p[i] + (-(lr / bc1)) * (m[i] / denom)
    return p, m, v, vmax
