"""numba kernels for the hot paths (numba ships with librosa: no extra dependency).

Every kernel here is a plain loop whose result depends only on its inputs and carried state,
so splitting a signal into blocks anywhere gives bit-identical output.
"""
from __future__ import annotations

import math

import numba
import numpy as np



@numba.njit(cache=True, inline="always")
def mix64(x):  # pragma: no cover - numba
    """splitmix64 finaliser: a counter-based 64-bit hash (x: uint64)."""
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


_INV53 = 1.0 / 9007199254740992.0
_INV16 = 1.0 / 65536.0


@numba.njit(cache=True, nogil=True, fastmath=True)
def sine_from_anchors(out, sin_a, cos_a, cos_t, sin_t, offset, amp):  # pragma: no cover
    """out[j] = amp * sin(phase) from anchor phases on a grid of len(cos_t) samples.

    Sample j of the block sits ``offset + j`` samples after the first anchor; anchor s covers
    samples [s*G, (s+1)*G). sin(a + b) = sin a cos b + cos a sin b. The inner loop runs over
    aligned slices so it vectorises.
    """
    G = cos_t.shape[0]
    n = out.shape[0]
    j = 0
    s = offset // G
    k0 = offset - s * G
    while j < n:
        sa = amp * sin_a[s]
        ca = amp * cos_a[s]
        m = min(n - j, G - k0)
        for i in range(m):
            out[j + i] = sa * cos_t[k0 + i] + ca * sin_t[k0 + i]
        j += m
        s += 1
        k0 = 0


@numba.njit(cache=True, nogil=True, fastmath=True)
def pink_noise(key, start, out, state):  # pragma: no cover - numba
    """Uniform hash noise through Paul Kellet's refined pink filter (state: 7 floats).

    Specialised (constant coefficients, locals in registers) because pink is the most used
    noise: about 3 ns a sample. Same recursion as :func:`colored_noise` with the pink bank.
    """
    b0, b1, b2, b3, b4, b5, xp = state[0], state[1], state[2], state[3], state[4], state[5], state[6]
    k0 = np.uint64(key)
    scale = math.sqrt(12.0) * _INV53
    for j in range(out.shape[0]):
        h = mix64(k0 ^ np.uint64(start + j))
        x = np.float64(h >> np.uint64(11)) * scale - 0.5 * math.sqrt(12.0)
        b0 = 0.99886 * b0 + 0.0555179 * x
        b1 = 0.99332 * b1 + 0.0750759 * x
        b2 = 0.96900 * b2 + 0.1538520 * x
        b3 = 0.86650 * b3 + 0.3104856 * x
        b4 = 0.55000 * b4 + 0.5329522 * x
        b5 = -0.7616 * b5 - 0.0168980 * x
        out[j] = (b0 + b1) + (b2 + b3) + (b4 + b5) + 0.5362 * x + 0.115926 * xp
        xp = x
    state[0], state[1], state[2], state[3], state[4], state[5], state[6] = b0, b1, b2, b3, b4, b5, xp


@numba.njit(cache=True, nogil=True, fastmath=True)
def colored_noise(key, start, out, gaussian, poles, gains, direct, delayed, diff, state):  # pragma: no cover
    """Counter-hash noise through a bank of parallel one-pole filters.

    White sample i is a pure function of (key, i): uniform from 53 bits of mix64(key ^ i),
    scaled to unit variance; or, when ``gaussian``, the Irwin-Hall sum of the hash's four
    16-bit quarters (close to Gaussian, kurtosis 2.7) scaled to unit variance.

    y[i] = sum_k b_k[i] + direct * x[i] + delayed * x[i-1], with b_k[i] = poles[k] b_k[i-1] +
    gains[k] x[i]; when ``diff`` the output is y[i] - y[i-1]. ``state`` [shape=(len(poles) + 2,)]
    carries b_k, x[i-1] and y[i-1] across calls. Banks of up to 6 one-poles run from local
    variables (no memory round trip per sample), at a few ns a sample.
    """
    m = poles.shape[0]
    p = np.zeros(6)
    g = np.zeros(6)
    b = np.zeros(6)
    for k in range(m):
        p[k] = poles[k]
        g[k] = gains[k]
        b[k] = state[k]
    p0, p1, p2, p3, p4, p5 = p[0], p[1], p[2], p[3], p[4], p[5]
    g0, g1, g2, g3, g4, g5 = g[0], g[1], g[2], g[3], g[4], g[5]
    b0, b1, b2, b3, b4, b5 = b[0], b[1], b[2], b[3], b[4], b[5]
    xprev = state[m]
    yprev = state[m + 1]
    k0 = np.uint64(key)
    scale_u = math.sqrt(12.0)
    scale_g = math.sqrt(3.0)
    for j in range(out.shape[0]):
        h = mix64(k0 ^ np.uint64(start + j))
        if gaussian:
            s = (np.float64(h & np.uint64(0xFFFF)) + np.float64((h >> np.uint64(16)) & np.uint64(0xFFFF))
                 + np.float64((h >> np.uint64(32)) & np.uint64(0xFFFF)) + np.float64(h >> np.uint64(48)))
            x = (s * _INV16 + 2.0 * _INV16 - 2.0) * scale_g
        else:
            x = (np.float64(h >> np.uint64(11)) * _INV53 - 0.5) * scale_u
        b0 = p0 * b0 + g0 * x
        b1 = p1 * b1 + g1 * x
        b2 = p2 * b2 + g2 * x
        b3 = p3 * b3 + g3 * x
        b4 = p4 * b4 + g4 * x
        b5 = p5 * b5 + g5 * x
        y = (b0 + b1) + (b2 + b3) + (b4 + b5) + direct * x + delayed * xprev
        xprev = x
        if diff:
            d = y - yprev
            yprev = y
            y = d
        out[j] = y
    b[0], b[1], b[2], b[3], b[4], b[5] = b0, b1, b2, b3, b4, b5
    for k in range(m):
        state[k] = b[k]
    state[m] = xprev
    state[m + 1] = yprev
