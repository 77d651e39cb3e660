/* resonator._kernels: the render engine's hot loops, compiled once when the package is built.
 *
 * They were numba functions; as a C extension they load in microseconds (numba's import, its
 * type registries and the loading of its cached kernels cost about 0.8 s of every command that
 * rendered, and its first compilation tens of seconds on a fresh install).
 *
 * Every kernel is a plain loop whose result depends only on its inputs and the state it carries,
 * so splitting a signal into blocks anywhere gives bit-identical output. Arithmetic is strict
 * IEEE double (built with -ffp-contract=off: no fused multiply-adds, so the bits do not depend
 * on the CPU the extension was built for). Arrays are passed through the buffer protocol and
 * must be C-contiguous with the stated item type; the GIL is released while a kernel runs, so
 * two render lanes use two cores.
 *
 * The Python side (resonator.kernels) documents each kernel's contract.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* The hot loops are compiled for three instruction sets (x86-64 with AVX-512, with AVX2, and the
 * baseline) and the loader picks the best one the CPU has (GCC's target_clones, an ifunc):
 * the wider registers and three-operand forms make them 1.3-2x faster. The arithmetic is the
 * same in every copy (no fused multiply-adds: -ffp-contract=off; nothing reassociated), so
 * the samples are the same bits on every CPU. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && __GNUC__ >= 11 && \
    defined(__linux__) && !defined(RESONATOR_NO_CLONES)
#define HOT __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define HOT
#endif

/* ------------------------------------------------------------------------ array arguments */
typedef struct {
    Py_buffer b[16];
    int n;
} Bufs;

static void release(Bufs *bs) {
    for (int i = 0; i < bs->n; i++) PyBuffer_Release(&bs->b[i]);
    bs->n = 0;
}

/* kind: 'd' float64, 'f' float32, 'q' int64, 'i' int32, 'h' int16 */
static int kind_matches(const Py_buffer *v, char kind) {
    const char *f = v->format ? v->format : "B";
    if (*f == '<' || *f == '=' || *f == '@') f++;
    if (f[0] == '\0' || f[1] != '\0') return 0;
    switch (kind) {
    case 'd': return f[0] == 'd' && v->itemsize == 8;
    case 'f': return f[0] == 'f' && v->itemsize == 4;
    case 'q': return (f[0] == 'q' || f[0] == 'l') && v->itemsize == 8;
    case 'i': return (f[0] == 'i' || f[0] == 'l') && v->itemsize == 4;
    case 'h': return f[0] == 'h' && v->itemsize == 2;
    }
    return 0;
}

/* A C-contiguous array of ``kind`` with ``ndim`` dimensions (-1: any); NULL and an exception
 * otherwise. The buffer is released by release(bs). */
static void *arr(Bufs *bs, PyObject *o, char kind, int ndim, int writable, const char *what) {
    if (bs->n >= 16) {
        PyErr_SetString(PyExc_RuntimeError, "too many array arguments");
        return NULL;
    }
    Py_buffer *v = &bs->b[bs->n];
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(o, v, flags) < 0) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "%s must be a C-contiguous%s array", what,
                     writable ? " writable" : "");
        return NULL;
    }
    bs->n++;
    if (!kind_matches(v, kind) || (ndim >= 0 && v->ndim != ndim)) {
        PyErr_Format(PyExc_TypeError, "%s: expected a %d-D array of type '%c', got %d-D '%s'",
                     what, ndim, kind, v->ndim, v->format ? v->format : "B");
        return NULL;
    }
    return v->buf;
}

static Py_ssize_t dim(Bufs *bs, int i, int d) {
    Py_buffer *v = &bs->b[i];
    return d < v->ndim ? v->shape[d] : 1;
}

#define ARR(var, type, obj, kind, nd, w, what)                        \
    type *var = (type *)arr(&bs, obj, kind, nd, w, what);             \
    if (!var) goto fail;

/* ------------------------------------------------------------------------ hashing */
static inline uint64_t mix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

#define INV53 (1.0 / 9007199254740992.0)
#define INV16 (1.0 / 65536.0)

/* ------------------------------------------------------------------------ sines */
HOT static void sine_anchor_loop(double *out, Py_ssize_t n, const double *sin_a, const double *cos_a,
                             const double *cos_t, const double *sin_t, Py_ssize_t G,
                             int64_t offset, double amp) {
    Py_ssize_t j = 0;
    int64_t s = offset / G;
    Py_ssize_t k0 = (Py_ssize_t)(offset - s * G);
    while (j < n) {
        double sa = amp * sin_a[s], ca = amp * cos_a[s];
        Py_ssize_t m = n - j < G - k0 ? n - j : G - k0;
        double *o = out + j;
        const double *ct = cos_t + k0, *st = sin_t + k0;
        for (Py_ssize_t i = 0; i < m; i++) o[i] = sa * ct[i] + ca * st[i];
        j += m;
        s++;
        k0 = 0;
    }
}

static PyObject *k_sine_from_anchors(PyObject *self, PyObject *args) {
    PyObject *o_out, *o_sa, *o_ca, *o_ct, *o_st;
    long long offset;
    double amp;
    Bufs bs = {.n = 0};
    if (!PyArg_ParseTuple(args, "OOOOOLd", &o_out, &o_sa, &o_ca, &o_ct, &o_st, &offset, &amp))
        return NULL;
    ARR(out, double, o_out, 'd', 1, 1, "out");
    ARR(sa, double, o_sa, 'd', 1, 0, "sin_a");
    ARR(ca, double, o_ca, 'd', 1, 0, "cos_a");
    ARR(ct, double, o_ct, 'd', 1, 0, "cos_t");
    ARR(st, double, o_st, 'd', 1, 0, "sin_t");
    Py_ssize_t n = dim(&bs, 0, 0), G = dim(&bs, 3, 0), na = dim(&bs, 1, 0);
    if (G < 1 || dim(&bs, 4, 0) != G || dim(&bs, 2, 0) != na || offset < 0 ||
        (n > 0 && (offset + n - 1) / G >= na)) {
        PyErr_SetString(PyExc_ValueError, "sine_from_anchors: anchors do not cover the block");
        goto fail;
    }
    Py_BEGIN_ALLOW_THREADS
    sine_anchor_loop(out, n, sa, ca, ct, st, G, offset, amp);
    Py_END_ALLOW_THREADS
    release(&bs);
    Py_RETURN_NONE;
fail:
    release(&bs);
    return NULL;
}

/* ------------------------------------------------------------------------ noise */
/* Paul Kellet's refined pink filter (six one-pole sections and a direct path) of uniform noise
 * hashed from (key, frame), times a scale; one channel, or two in one loop.
 * The sixth section adds -0.0168980 x rather than subtracting 0.0168980 x (the same bits):
 * GCC 12 turns a subtraction beside the other sections' additions into a fused
 * multiply-add-subtract (vfmsubadd) in the vector copies, even with -ffp-contract=off. */
#define PINK_STEP(B, XP, X, DST)                                                         \
    do {                                                                                 \
        double x_ = (X);                                                                 \
        B[0] = 0.99886 * B[0] + 0.0555179 * x_;                                          \
        B[1] = 0.99332 * B[1] + 0.0750759 * x_;                                          \
        B[2] = 0.96900 * B[2] + 0.1538520 * x_;                                          \
        B[3] = 0.86650 * B[3] + 0.3104856 * x_;                                          \
        B[4] = 0.55000 * B[4] + 0.5329522 * x_;                                          \
        B[5] = -0.7616 * B[5] + -0.0168980 * x_;                                         \
        DST = ((B[0] + B[1]) + (B[2] + B[3]) + (B[4] + B[5]) + 0.5362 * x_ + 0.115926 * XP) \
              * scale;                                                                   \
        XP = x_;                                                                         \
    } while (0)
/* The uniform noise of PINK_RUN frames at a time first (a loop the compiler vectorises: the
 * hash has no carried state), then the filter's recurrence over it; two channels run in the
 * two lanes of 2-double vectors (the same operations per lane). 1.8x faster than hashing inside
 * a scalar recurrence, the same bits. */
#define PINK_RUN 512
typedef double v2d __attribute__((vector_size(16)));

HOT static PyObject *k_pink_noise(PyObject *self, PyObject *args) {
    PyObject *o_keys, *o_out, *o_state;
    long long start;
    double scale = 1.0;
    Bufs bs = {.n = 0};
    if (!PyArg_ParseTuple(args, "OLOO|d", &o_keys, &start, &o_out, &o_state, &scale))
        return NULL;
    uint64_t keys[2] = {0, 0};
    Py_ssize_t C;
    if (PyLong_Check(o_keys)) { /* one channel: out (n,), state (7,) */
        keys[0] = PyLong_AsUnsignedLongLong(o_keys);
        C = 1;
    } else if (PyTuple_Check(o_keys) && PyTuple_GET_SIZE(o_keys) == 2) { /* (2, n), (2, 7) */
        keys[0] = PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(o_keys, 0));
        keys[1] = PyLong_AsUnsignedLongLong(PyTuple_GET_ITEM(o_keys, 1));
        C = 2;
    } else {
        PyErr_SetString(PyExc_TypeError, "pink_noise: key is an int or a pair of ints");
        return NULL;
    }
    if (PyErr_Occurred()) return NULL;
    ARR(out, double, o_out, 'd', C == 1 ? 1 : 2, 1, "out");
    ARR(st, double, o_state, 'd', C == 1 ? 1 : 2, 1, "state");
    Py_ssize_t n = dim(&bs, 0, C == 1 ? 0 : 1), row = dim(&bs, 1, C == 1 ? 0 : 1);
    if (row < 7 || (C == 2 && (dim(&bs, 0, 0) != 2 || dim(&bs, 1, 0) != 2))) {
        PyErr_SetString(PyExc_ValueError, "pink_noise: state holds 7 values per channel");
        goto fail;
    }
    Py_BEGIN_ALLOW_THREADS
    const double scale_u = sqrt(12.0) * INV53, half = 0.5 * sqrt(12.0);
    double p[6], xp = st[6];
    memcpy(p, st, sizeof p);
    const uint64_t k0 = keys[0], k1 = keys[1];
    if (C == 2) { /* the two channels side by side in the lanes of 2-double vectors */
        double x2[2 * PINK_RUN];
        v2d B0 = {p[0], st[row]}, B1 = {p[1], st[row + 1]}, B2 = {p[2], st[row + 2]},
            B3 = {p[3], st[row + 3]}, B4 = {p[4], st[row + 4]}, B5 = {p[5], st[row + 5]},
            XP = {xp, st[row + 6]};
        for (Py_ssize_t j0 = 0; j0 < n; j0 += PINK_RUN) {
            Py_ssize_t m = n - j0 < PINK_RUN ? n - j0 : PINK_RUN;
            for (Py_ssize_t i = 0; i < m; i++) {
                uint64_t t = (uint64_t)(start + j0 + i);
                x2[2 * i] = (double)(mix64(k0 ^ t) >> 11) * scale_u - half;
                x2[2 * i + 1] = (double)(mix64(k1 ^ t) >> 11) * scale_u - half;
            }
            double *o0 = out + j0, *o1 = out + n + j0;
            for (Py_ssize_t i = 0; i < m; i++) {
                v2d X;
                memcpy(&X, x2 + 2 * i, sizeof X);
                B0 = 0.99886 * B0 + 0.0555179 * X;
                B1 = 0.99332 * B1 + 0.0750759 * X;
                B2 = 0.96900 * B2 + 0.1538520 * X;
                B3 = 0.86650 * B3 + 0.3104856 * X;
                B4 = 0.55000 * B4 + 0.5329522 * X;
                B5 = -0.7616 * B5 + -0.0168980 * X;
                v2d Y = ((B0 + B1) + (B2 + B3) + (B4 + B5) + 0.5362 * X + 0.115926 * XP) * scale;
                XP = X;
                o0[i] = Y[0];
                o1[i] = Y[1];
            }
        }
        double *q = st + row;
        p[0] = B0[0]; p[1] = B1[0]; p[2] = B2[0]; p[3] = B3[0]; p[4] = B4[0]; p[5] = B5[0];
        q[0] = B0[1]; q[1] = B1[1]; q[2] = B2[1]; q[3] = B3[1]; q[4] = B4[1]; q[5] = B5[1];
        xp = XP[0];
        q[6] = XP[1];
    } else {
        double xa[PINK_RUN];
        for (Py_ssize_t j0 = 0; j0 < n; j0 += PINK_RUN) {
            Py_ssize_t m = n - j0 < PINK_RUN ? n - j0 : PINK_RUN;
            for (Py_ssize_t i = 0; i < m; i++)
                xa[i] = (double)(mix64(k0 ^ (uint64_t)(start + j0 + i)) >> 11) * scale_u - half;
            double *o0 = out + j0;
            for (Py_ssize_t i = 0; i < m; i++) PINK_STEP(p, xp, xa[i], o0[i]);
        }
    }
    memcpy(st, p, sizeof p);
    st[6] = xp;
    Py_END_ALLOW_THREADS
    release(&bs);
    Py_RETURN_NONE;
fail:
    release(&bs);
    return NULL;
}
#undef PINK_STEP

HOT static PyObject *k_colored_noise(PyObject *self, PyObject *args) {
    unsigned long long key;
    long long start;
    int gaussian, diff;
    double direct, delayed;
    PyObject *o_out, *o_poles, *o_gains, *o_state;
    Bufs bs = {.n = 0};
    if (!PyArg_ParseTuple(args, "KLOpOOddpO", &key, &start, &o_out, &gaussian, &o_poles,
                          &o_gains, &direct, &delayed, &diff, &o_state))
        return NULL;
    ARR(out, double, o_out, 'd', 1, 1, "out");
    ARR(poles, double, o_poles, 'd', 1, 0, "poles");
    ARR(gains, double, o_gains, 'd', 1, 0, "gains");
    ARR(state, double, o_state, 'd', 1, 1, "state");
    Py_ssize_t m = dim(&bs, 1, 0), n = dim(&bs, 0, 0);
    if (m > 6 || dim(&bs, 2, 0) != m || dim(&bs, 3, 0) < m + 2) {
        PyErr_SetString(PyExc_ValueError, "colored_noise: up to 6 poles, gains to match, "
                                          "state of poles + 2");
        goto fail;
    }
    Py_BEGIN_ALLOW_THREADS
    double p[6] = {0}, g[6] = {0}, b[6] = {0};
    for (Py_ssize_t k = 0; k < m; k++) {
        p[k] = poles[k];
        g[k] = gains[k];
        b[k] = state[k];
    }
    double p0 = p[0], p1 = p[1], p2 = p[2], p3 = p[3], p4 = p[4], p5 = p[5];
    double g0 = g[0], g1 = g[1], g2 = g[2], g3 = g[3], g4 = g[4], g5 = g[5];
    double b0 = b[0], b1 = b[1], b2 = b[2], b3 = b[3], b4 = b[4], b5 = b[5];
    double xprev = state[m], yprev = state[m + 1];
    const uint64_t k0 = (uint64_t)key;
    const double scale_u = sqrt(12.0), scale_g = sqrt(3.0);
    double xs[PINK_RUN];
    for (Py_ssize_t j = 0; j < n; j++) {
        Py_ssize_t i = j % PINK_RUN;
        if (i == 0) { /* the white noise of the next run first (as pink_noise) */
            Py_ssize_t run = n - j < PINK_RUN ? n - j : PINK_RUN;
            if (gaussian)
                for (Py_ssize_t r = 0; r < run; r++) {
                    uint64_t h = mix64(k0 ^ (uint64_t)(start + j + r));
                    double s = ((double)(h & 0xFFFF) + (double)((h >> 16) & 0xFFFF)) +
                               (double)((h >> 32) & 0xFFFF) + (double)(h >> 48);
                    xs[r] = (s * INV16 + 2.0 * INV16 - 2.0) * scale_g;
                }
            else
                for (Py_ssize_t r = 0; r < run; r++) {
                    uint64_t h = mix64(k0 ^ (uint64_t)(start + j + r));
                    xs[r] = ((double)(h >> 11) * INV53 - 0.5) * scale_u;
                }
        }
        double x = xs[i];
        b0 = p0 * b0 + g0 * x;
        b1 = p1 * b1 + g1 * x;
        b2 = p2 * b2 + g2 * x;
        b3 = p3 * b3 + g3 * x;
        b4 = p4 * b4 + g4 * x;
        b5 = p5 * b5 + g5 * x;
        double y = (b0 + b1) + (b2 + b3) + (b4 + b5) + direct * x + delayed * xprev;
        xprev = x;
        if (diff) {
            double d = y - yprev;
            yprev = y;
            y = d;
        }
        out[j] = y;
    }
    b[0] = b0; b[1] = b1; b[2] = b2; b[3] = b3; b[4] = b4; b[5] = b5;
    for (Py_ssize_t k = 0; k < m; k++) state[k] = b[k];
    state[m] = xprev;
    state[m + 1] = yprev;
    Py_END_ALLOW_THREADS
    release(&bs);
    Py_RETURN_NONE;
fail:
    release(&bs);
    return NULL;
}

/* ------------------------------------------------------------------------ mixing */
HOT static PyObject *k_mul_add(PyObject *self, PyObject *args) {
    PyObject *o_out, *o_x, *o_g;
    Bufs bs = {.n = 0};
    if (!PyArg_ParseTuple(args, "OOO", &o_out, &o_x, &o_g)) return NULL;
    ARR(out, double, o_out, 'd', 2, 1, "out");
    ARR(x, double, o_x, 'd', 2, 0, "x");
    Py_ssize_t C = dim(&bs, 0, 0), n = dim(&bs, 0, 1);
    if (dim(&bs, 1, 0) != C || dim(&bs, 1, 1) != n) {
        PyErr_SetString(PyExc_ValueError, "mul_add: x must be shaped like out");
        goto fail;
    }
    if (PyFloat_Check(o_g) || PyLong_Check(o_g)) {  /* out += x * g */
        double g = PyFloat_AsDouble(o_g);
        if (g == -1.0 && PyErr_Occurred()) goto fail;
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t i = 0; i < C * n; i++) out[i] += x[i] * g;
        Py_END_ALLOW_THREADS
    } else {  /* out[c, j] += x[c, j] * g[j] */
        ARR(g, double, o_g, 'd', 1, 0, "g");
        if (dim(&bs, 2, 0) != n) {
            PyErr_SetString(PyExc_ValueError, "mul_add: g must have one value per frame");
            goto fail;
        }
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t c = 0; c < C; c++) {
            double *o = out + c * n;
            const double *xx = x + c * n;
            for (Py_ssize_t j = 0; j < n; j++) o[j] += xx[j] * g[j];
        }
        Py_END_ALLOW_THREADS
    }
    release(&bs);
    Py_RETURN_NONE;
fail:
    release(&bs);
    return NULL;
}

/* ------------------------------------------------------------------------ curves */
#define AG 128 /* anchor grid of curve_block (absolute sample positions) */

static inline double seg_value(int64_t kind, double v0, double v1, double a0, double r, double e,
                               double x) {
    switch (kind) {
    case 1: return v0 + (v1 - v0) * x;
    case 3:
        if (x >= 1.0) return v1;
        if (x <= 0.0) return v0;
        return a0 * exp(r * x);
    case 4: return v0 + (v1 - v0) * (1.0 - cos(M_PI * x)) * 0.5;
    case 0: return x >= 1.0 ? v1 : v0;
    case 2: return a0 * exp(r * x);
    case 5: return v0 + (v1 - v0) * x * x * (3.0 - 2.0 * x);
    }
    return v0 + (v1 - v0) * (exp(r * x) - 1.0) / e;
}

/* searchsorted(tp, ti, 'right') from the guess k (kept when it still holds) */
static inline Py_ssize_t segment_of(double ti, Py_ssize_t k, const double *tp, Py_ssize_t n) {
    if ((k == 0 || tp[k - 1] <= ti) && (k == n || ti < tp[k])) return k;
    Py_ssize_t lo = 0, hi = n;
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (tp[mid] <= ti) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static inline double seg_integral(int64_t kind, double v0, double v1, double a0, double r,
                                  double e, double x) {
    switch (kind) {
    case 0: return v0 * x;
    case 1: return v0 * x + (v1 - v0) * x * x * 0.5;
    case 2:
    case 3:
        if (fabs(r) < 1e-12) return a0 * x;
        return a0 * expm1(r * x) / r;
    case 4: return v0 * x + (v1 - v0) * 0.5 * (x - sin(M_PI * x) / M_PI);
    case 5: return v0 * x + (v1 - v0) * (x * x * x - 0.5 * (x * x * x * x));
    }
    return v0 * x + (v1 - v0) * (expm1(r * x) / r - x) / e;
}

typedef struct {
    const double *tp, *vp, *a0, *r, *e;
    const int64_t *kinds;
    Py_ssize_t n;
} CurveArgs;

static int curve_args(Bufs *bs, CurveArgs *c, PyObject *tp, PyObject *vp, PyObject *kinds,
                      PyObject *a0, PyObject *r, PyObject *e) {
    int first = bs->n;
    if (!(c->tp = arr(bs, tp, 'd', 1, 0, "tp")) || !(c->vp = arr(bs, vp, 'd', 1, 0, "vp")) ||
        !(c->kinds = arr(bs, kinds, 'q', 1, 0, "kinds")) ||
        !(c->a0 = arr(bs, a0, 'd', 1, 0, "a0")) || !(c->r = arr(bs, r, 'd', 1, 0, "r")) ||
        !(c->e = arr(bs, e, 'd', 1, 0, "e")))
        return -1;
    c->n = dim(bs, first, 0);
    for (int i = first + 1; i < first + 6; i++)
        if (dim(bs, i, 0) != c->n) {
            PyErr_SetString(PyExc_ValueError, "curve arrays differ in length");
            return -1;
        }
    if (c->n < 1) {
        PyErr_SetString(PyExc_ValueError, "a curve needs a point");
        return -1;
    }
    return 0;
}

HOT static PyObject *k_curve_eval(PyObject *self, PyObject *args) {
    PyObject *o_t, *o_tp, *o_vp, *o_k, *o_a0, *o_r, *o_e, *o_out;
    Bufs bs = {.n = 0};
    CurveArgs c;
    if (!PyArg_ParseTuple(args, "OOOOOOOO", &o_t, &o_tp, &o_vp, &o_k, &o_a0, &o_r, &o_e, &o_out))
        return NULL;
    ARR(t, double, o_t, 'd', 1, 0, "t");
    if (curve_args(&bs, &c, o_tp, o_vp, o_k, o_a0, o_r, o_e) < 0) goto fail;
    ARR(out, double, o_out, 'd', 1, 1, "out");
    Py_ssize_t m = dim(&bs, 0, 0);
    if (dim(&bs, 7, 0) != m) {
        PyErr_SetString(PyExc_ValueError, "curve_eval: out must match t");
        goto fail;
    }
    Py_BEGIN_ALLOW_THREADS
    Py_ssize_t k = 0, n = c.n;
    for (Py_ssize_t i = 0; i < m; i++) {
        double ti = t[i];
        k = segment_of(ti, k, c.tp, n);
        if (k == 0) out[i] = c.vp[0];
        else if (k >= n) out[i] = c.vp[n - 1];
        else {
            double x = (ti - c.tp[k - 1]) / (c.tp[k] - c.tp[k - 1]);
            out[i] = seg_value(c.kinds[k], c.vp[k - 1], c.vp[k], c.a0[k], c.r[k], c.e[k], x);
        }
    }
    Py_END_ALLOW_THREADS
    release(&bs);
    Py_RETURN_NONE;
fail:
    release(&bs);
    return NULL;
}

/* out[i] = the exact integral of a curve from 0 to t[i]: each run of times inside one segment
 * (a block's ascending times) in a loop of its own that the compiler vectorises, the same
 * operations on every time as one segment_of() per time; base0 = vp[0] tp[0], cum the
 * integrals at the points. */
static inline __attribute__((always_inline)) void integral_runs(
    const CurveArgs *c, const double *cum, double base0, const double *t, double *out,
    Py_ssize_t m) {
    Py_ssize_t k = 0, n = c->n, i = 0;
    while (i < m) {
        k = segment_of(t[i], k, c->tp, n);
        double lo = k > 0 ? c->tp[k - 1] : -INFINITY, hi = k < n ? c->tp[k] : INFINITY;
        Py_ssize_t j = i + 1;
        while (j < m && lo <= t[j] && t[j] < hi) j++;
        const double *tt = t + i;
        double *o = out + i;
        Py_ssize_t len = j - i;
        if (k == 0) {
            double v = c->vp[0];
            for (Py_ssize_t q = 0; q < len; q++) o[q] = v * tt[q];
        } else if (k >= n) {
            double b = base0 + cum[n - 1], v = c->vp[n - 1], t0 = c->tp[n - 1];
            for (Py_ssize_t q = 0; q < len; q++) o[q] = b + v * (tt[q] - t0);
        } else {
            double d = c->tp[k] - c->tp[k - 1], b = base0 + cum[k - 1], t0 = c->tp[k - 1];
            double v0 = c->vp[k - 1], v1 = c->vp[k], a0 = c->a0[k], r = c->r[k], e = c->e[k];
            int64_t kind = c->kinds[k];
            if (d == 0.0)
                for (Py_ssize_t q = 0; q < len; q++) o[q] = b;
            else if (kind == 1) /* linear (the usual): the kind a constant in the loop */
                for (Py_ssize_t q = 0; q < len; q++)
                    o[q] = b + seg_integral(1, v0, v1, a0, r, e, (tt[q] - t0) / d) * d;
            else
                for (Py_ssize_t q = 0; q < len; q++)
                    o[q] = b + seg_integral(kind, v0, v1, a0, r, e, (tt[q] - t0) / d) * d;
        }
        i = j;
    }
}

HOT static PyObject *k_curve_integral(PyObject *self, PyObject *args) {
    PyObject *o_t, *o_tp, *o_vp, *o_k, *o_a0, *o_r, *o_e, *o_cum, *o_out;
    double base0;
    Bufs bs = {.n = 0};
    CurveArgs c;
    if (!PyArg_ParseTuple(args, "OOOOOOOOdO", &o_t, &o_tp, &o_vp, &o_k, &o_a0, &o_r, &o_e,
                          &o_cum, &base0, &o_out))
        return NULL;
    ARR(t, double, o_t, 'd', 1, 0, "t");
    if (curve_args(&bs, &c, o_tp, o_vp, o_k, o_a0, o_r, o_e) < 0) goto fail;
    ARR(cum, double, o_cum, 'd', 1, 0, "cum");
    ARR(out, double, o_out, 'd', 1, 1, "out");
    Py_ssize_t m = dim(&bs, 0, 0);
    if (dim(&bs, 7, 0) != c.n || dim(&bs, 8, 0) != m) {
        PyErr_SetString(PyExc_ValueError, "curve_integral: cum must match the points, out t");
        goto fail;
    }
    Py_BEGIN_ALLOW_THREADS
    integral_runs(&c, cum, base0, t, out, m);
    Py_END_ALLOW_THREADS
    release(&bs);
    Py_RETURN_NONE;
fail:
    release(&bs);
    return NULL;
}

HOT static void curve_block(int64_t start, double sr, const CurveArgs *c, double *out,
                        Py_ssize_t n) {
    double ta[AG], tb[AG];
    const double *tp = c->tp, *vp = c->vp;
    Py_ssize_t npts = c->n;
    double t_first = (double)start / sr;
    Py_ssize_t lo = 0, hi = npts;
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (tp[mid] <= t_first) lo = mid + 1;
        else hi = mid;
    }
    Py_ssize_t k = lo, i = 0;
    while (i < n) {
        Py_ssize_t i1;
        if (k >= npts) i1 = n;
        else {
            double e1 = ceil(tp[k] * sr) - (double)start;
            i1 = e1 < (double)i ? i : (e1 > (double)n ? n : (Py_ssize_t)e1);
            while (i1 > i && (double)(start + i1 - 1) / sr >= tp[k]) i1--;
            while (i1 < n && (double)(start + i1) / sr < tp[k]) i1++;
        }
        if (i1 > i) {
            if (k == 0 || k >= npts) {
                double v = k == 0 ? vp[0] : vp[npts - 1];
                for (Py_ssize_t ii = i; ii < i1; ii++) out[ii] = v;
            } else {
                int64_t kind = c->kinds[k];
                double t0 = tp[k - 1], d = tp[k] - t0, v0 = vp[k - 1], v1 = vp[k];
                double a0 = c->a0[k], r = c->r[k], e = c->e[k];
                if (kind == 2 || kind == 3 || kind == 4 || kind == 6) {
                    for (int j = 0; j < AG; j++) {
                        double dj = ((double)j / sr) / d;
                        if (kind == 4) {
                            ta[j] = cos(M_PI * dj);
                            tb[j] = sin(M_PI * dj);
                        } else {
                            ta[j] = exp(r * dj);
                        }
                    }
                    Py_ssize_t ii = i;
                    while (ii < i1) {
                        int64_t m = start + ii;
                        int64_t anchor = (m >= 0 ? m / AG : -((-m + AG - 1) / AG)) * AG;
                        Py_ssize_t j0 = (Py_ssize_t)(m - anchor);
                        Py_ssize_t stop = ii + AG - j0 < i1 ? ii + AG - j0 : i1;
                        double xa = ((double)anchor / sr - t0) / d;
                        if (kind == 4) {
                            double ca = cos(M_PI * xa), sa = sin(M_PI * xa);
                            double h = (v1 - v0) * 0.5;
                            for (Py_ssize_t q = ii; q < stop; q++) {
                                Py_ssize_t j = j0 + q - ii;
                                out[q] = v0 + h * (1.0 - (ca * ta[j] - sa * tb[j]));
                            }
                        } else if (kind == 6) {
                            double ea = exp(r * xa), h = (v1 - v0) / e;
                            for (Py_ssize_t q = ii; q < stop; q++)
                                out[q] = v0 + h * (ea * ta[j0 + q - ii] - 1.0);
                        } else {
                            double ea = a0 * exp(r * xa);
                            for (Py_ssize_t q = ii; q < stop; q++) out[q] = ea * ta[j0 + q - ii];
                        }
                        ii = stop;
                    }
                    if (kind == 3 && (double)(start + i) / sr <= t0)
                        out[i] = v0; /* a db segment starts exactly on its first value */
                } else if (kind == 1) { /* linear (the usual): a constant kind, a vector loop */
                    for (Py_ssize_t ii = i; ii < i1; ii++) {
                        double x = ((double)(start + ii) / sr - t0) / d;
                        out[ii] = seg_value(1, v0, v1, a0, r, e, x);
                    }
                } else {
                    for (Py_ssize_t ii = i; ii < i1; ii++) {
                        double x = ((double)(start + ii) / sr - t0) / d;
                        out[ii] = seg_value(kind, v0, v1, a0, r, e, x);
                    }
                }
            }
        }
        i = i1;
        k++;
    }
}

static PyObject *k_curve_block(PyObject *self, PyObject *args) {
    long long start;
    double sr;
    PyObject *o_tp, *o_vp, *o_k, *o_a0, *o_r, *o_e, *o_out;
    Bufs bs = {.n = 0};
    CurveArgs c;
    if (!PyArg_ParseTuple(args, "LdOOOOOOO", &start, &sr, &o_tp, &o_vp, &o_k, &o_a0, &o_r, &o_e,
                          &o_out))
        return NULL;
    if (curve_args(&bs, &c, o_tp, o_vp, o_k, o_a0, o_r, o_e) < 0) goto fail;
    ARR(out, double, o_out, 'd', 1, 1, "out");
    Py_ssize_t n = dim(&bs, 6, 0);
    Py_BEGIN_ALLOW_THREADS
    curve_block(start, sr, &c, out, n);
    Py_END_ALLOW_THREADS
    release(&bs);
    Py_RETURN_NONE;
fail:
    release(&bs);
    return NULL;
}

/* ------------------------------------------------------------------------ biquads */
static void biquad_design(int kind, int order, double sr, double f, double q, double gain_db,
                          double *out, Py_ssize_t n_sec) {
    double w0 = 2.0 * M_PI * f / sr, cw = cos(w0), sw = sin(w0);
    for (Py_ssize_t s = 0; s < n_sec; s++) {
        double qq = q;
        if (order > 2) qq = 1.0 / (2.0 * cos((2.0 * (double)s + 1.0) * M_PI / (2.0 * order)));
        double alpha = sw / (2.0 * qq);
        double b0, b1, b2, a0, a1, a2;
        if (kind == 0) { /* lowpass */
            b0 = (1.0 - cw) * 0.5; b1 = 1.0 - cw; b2 = b0;
            a0 = 1.0 + alpha; a1 = -2.0 * cw; a2 = 1.0 - alpha;
        } else if (kind == 1) { /* highpass */
            b0 = (1.0 + cw) * 0.5; b1 = -(1.0 + cw); b2 = b0;
            a0 = 1.0 + alpha; a1 = -2.0 * cw; a2 = 1.0 - alpha;
        } else if (kind == 2) { /* bandpass, 0 dB peak */
            b0 = alpha; b1 = 0.0; b2 = -alpha;
            a0 = 1.0 + alpha; a1 = -2.0 * cw; a2 = 1.0 - alpha;
        } else {
            double A = pow(10.0, gain_db / 40.0);
            if (kind == 5) { /* peak */
                b0 = 1.0 + alpha * A; b1 = -2.0 * cw; b2 = 1.0 - alpha * A;
                a0 = 1.0 + alpha / A; a1 = -2.0 * cw; a2 = 1.0 - alpha / A;
            } else {
                double sa = 2.0 * sqrt(A) * alpha;
                if (kind == 3) { /* lowshelf */
                    b0 = A * ((A + 1.0) - (A - 1.0) * cw + sa);
                    b1 = 2.0 * A * ((A - 1.0) - (A + 1.0) * cw);
                    b2 = A * ((A + 1.0) - (A - 1.0) * cw - sa);
                    a0 = (A + 1.0) + (A - 1.0) * cw + sa;
                    a1 = -2.0 * ((A - 1.0) + (A + 1.0) * cw);
                    a2 = (A + 1.0) + (A - 1.0) * cw - sa;
                } else { /* highshelf */
                    b0 = A * ((A + 1.0) + (A - 1.0) * cw + sa);
                    b1 = -2.0 * A * ((A - 1.0) + (A + 1.0) * cw);
                    b2 = A * ((A + 1.0) + (A - 1.0) * cw - sa);
                    a0 = (A + 1.0) - (A - 1.0) * cw + sa;
                    a1 = 2.0 * ((A - 1.0) - (A + 1.0) * cw);
                    a2 = (A + 1.0) - (A - 1.0) * cw - sa;
                }
            }
        }
        double inv = 1.0 / a0;
        double *o = out + 5 * s;
        o[0] = b0 * inv; o[1] = b1 * inv; o[2] = b2 * inv; o[3] = a1 * inv; o[4] = a2 * inv;
    }
}

/* biquad_design(kind, order, sr, f, q, gain_db, out (sections, 5)) and, with arrays f, q, g,
 * out (sets, sections, 5): every parameter set */
static PyObject *k_biquad_design(PyObject *self, PyObject *args) {
    int kind, order;
    double sr;
    PyObject *o_f, *o_q, *o_g, *o_out;
    Bufs bs = {.n = 0};
    if (!PyArg_ParseTuple(args, "iidOOOO", &kind, &order, &sr, &o_f, &o_q, &o_g, &o_out))
        return NULL;
    if (PyFloat_Check(o_f) || PyLong_Check(o_f)) {
        double f = PyFloat_AsDouble(o_f), q = PyFloat_AsDouble(o_q), g = PyFloat_AsDouble(o_g);
        if (PyErr_Occurred()) goto fail;
        ARR(out, double, o_out, 'd', 2, 1, "out");
        if (dim(&bs, 0, 1) != 5) {
            PyErr_SetString(PyExc_ValueError, "biquad_design: out is (sections, 5)");
            goto fail;
        }
        biquad_design(kind, order, sr, f, q, g, out, dim(&bs, 0, 0));
    } else {
        ARR(f, double, o_f, 'd', 1, 0, "f");
        ARR(q, double, o_q, 'd', 1, 0, "q");
        ARR(g, double, o_g, 'd', 1, 0, "gain_db");
        ARR(out, double, o_out, 'd', 3, 1, "out");
        Py_ssize_t m = dim(&bs, 0, 0), ns = dim(&bs, 3, 1);
        if (dim(&bs, 1, 0) != m || dim(&bs, 2, 0) != m || dim(&bs, 3, 0) != m ||
            dim(&bs, 3, 2) != 5) {
            PyErr_SetString(PyExc_ValueError, "biquad_design: out is (sets, sections, 5)");
            goto fail;
        }
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t k = 0; k < m; k++)
            biquad_design(kind, order, sr, f[k], q[k], g[k], out + k * ns * 5, ns);
        Py_END_ALLOW_THREADS
    }
    release(&bs);
    Py_RETURN_NONE;
fail:
    release(&bs);
    return NULL;
}

#define FLUSH(z) \
    if (fabs(z) < 1e-200) z = 0.0

/* biquad_run(x (C, n) with C 1 or 2, coefs (segments, sections, 5), seg_starts, zi (C, sections,
 * 2), abs_start, grid[, out (C, n)]): TDF-II sections, in place, or from x into out (x is then
 * only read: no copy of the input block); two channels share the coefficients and run side by
 * side (the same arithmetic per channel as one). */
HOT static PyObject *k_biquad_run(PyObject *self, PyObject *args) {
    PyObject *o_x, *o_co, *o_seg, *o_zi, *o_out = NULL;
    long long abs_start, grid;
    Bufs bs = {.n = 0};
    if (!PyArg_ParseTuple(args, "OOOOLL|O", &o_x, &o_co, &o_seg, &o_zi, &abs_start, &grid, &o_out))
        return NULL;
    if (o_out == Py_None) o_out = NULL;
    ARR(x, double, o_x, 'd', 2, o_out == NULL, "x");
    ARR(co, double, o_co, 'd', 3, 0, "coefs");
    ARR(seg, int64_t, o_seg, 'q', 1, 0, "seg_starts");
    ARR(zi, double, o_zi, 'd', 3, 1, "zi");
    double *y = x;
    if (o_out != NULL) {
        ARR(out, double, o_out, 'd', 2, 1, "out");
        if (dim(&bs, 4, 0) != dim(&bs, 0, 0) || dim(&bs, 4, 1) != dim(&bs, 0, 1)) {
            PyErr_SetString(PyExc_ValueError, "biquad_run: out must have the shape of x");
            goto fail;
        }
        y = out;
    }
    Py_ssize_t C = dim(&bs, 0, 0), n = dim(&bs, 0, 1), n_seg = dim(&bs, 2, 0);
    Py_ssize_t n_sec = dim(&bs, 1, 1);
    if ((C != 1 && C != 2) || dim(&bs, 1, 0) != n_seg || dim(&bs, 1, 2) != 5 ||
        dim(&bs, 3, 0) != C || dim(&bs, 3, 1) != n_sec || dim(&bs, 3, 2) != 2 || grid < 1) {
        PyErr_SetString(PyExc_ValueError, "biquad_run: shapes do not agree");
        goto fail;
    }
    for (Py_ssize_t k = 0; k < n_seg; k++)
        if (seg[k] < 0 || seg[k] > n || (k && seg[k] < seg[k - 1])) {
            PyErr_SetString(PyExc_ValueError, "biquad_run: bad segment starts");
            goto fail;
        }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t k = 0; k < n_seg; k++) {
        Py_ssize_t lo = seg[k], hi = k + 1 < n_seg ? seg[k + 1] : n;
        for (Py_ssize_t s = 0; s < n_sec; s++) {
            const double *c = co + (k * n_sec + s) * 5;
            double b0 = c[0], b1 = c[1], b2 = c[2], a1 = c[3], a2 = c[4];
            double *zp = zi + s * 2, *zq = zi + (n_sec + s) * 2;
            double p0 = zp[0], p1 = zp[1];
            const double *xp = s ? y : x, *xq = (s ? y : x) + n;  /* later sections: in place */
            double *yp = y, *yq = y + n;
            Py_ssize_t j = lo;
            if (C == 2) {
                double q0 = zq[0], q1 = zq[1];
                while (j < hi) {
                    int64_t phase = (abs_start + j) % grid;
                    if (phase == 0) { FLUSH(p0); FLUSH(p1); FLUSH(q0); FLUSH(q1); }
                    Py_ssize_t stop = hi < j + grid - phase ? hi : j + grid - phase;
                    for (Py_ssize_t i = j; i < stop; i++) {
                        double v = xp[i], w = xq[i];
                        double yv = b0 * v + p0, u = b0 * w + q0;
                        p0 = b1 * v - a1 * yv + p1;
                        q0 = b1 * w - a1 * u + q1;
                        p1 = b2 * v - a2 * yv;
                        q1 = b2 * w - a2 * u;
                        yp[i] = yv;
                        yq[i] = u;
                    }
                    j = stop;
                }
                zq[0] = q0; zq[1] = q1;
            } else {
                while (j < hi) {
                    int64_t phase = (abs_start + j) % grid;
                    if (phase == 0) { FLUSH(p0); FLUSH(p1); }
                    Py_ssize_t stop = hi < j + grid - phase ? hi : j + grid - phase;
                    for (Py_ssize_t i = j; i < stop; i++) {
                        double v = xp[i];
                        double yv = b0 * v + p0;
                        p0 = b1 * v - a1 * yv + p1;
                        p1 = b2 * v - a2 * yv;
                        yp[i] = yv;
                    }
                    j = stop;
                }
            }
            zp[0] = p0; zp[1] = p1;
        }
    }
    Py_END_ALLOW_THREADS
    release(&bs);
    Py_RETURN_NONE;
fail:
    release(&bs);
    return NULL;
}

/* ------------------------------------------------------------------------ wavetables */
HOT static PyObject *k_table_lookup(PyObject *self, PyObject *args) {
    PyObject *o_ph, *o_f, *o_tab, *o_out;
    double nyq;
    Bufs bs = {.n = 0};
    if (!PyArg_ParseTuple(args, "OOOdO", &o_ph, &o_f, &o_tab, &nyq, &o_out)) return NULL;
    ARR(phase, double, o_ph, 'd', 1, 0, "phase");
    ARR(freq, double, o_f, 'd', 1, 0, "freq");
    ARR(tables, double, o_tab, 'd', 2, 0, "tables");
    ARR(out, double, o_out, 'd', 1, 1, "out");
    Py_ssize_t n = dim(&bs, 0, 0), n_levels = dim(&bs, 2, 0), width = dim(&bs, 2, 1);
    if (dim(&bs, 1, 0) != n || dim(&bs, 3, 0) != n || width < 2 || n_levels < 1) {
        PyErr_SetString(PyExc_ValueError, "table_lookup: shapes do not agree");
        goto fail;
    }
    Py_BEGIN_ALLOW_THREADS
    Py_ssize_t size = width - 1;
    for (Py_ssize_t i = 0; i < n; i++) {
        double f = fabs(freq[i]);
        double kreal = f > 0.0 ? nyq / f : 1e12;
        double xl = kreal > 1.0 ? 2.0 * log2(kreal) : 0.0;
        double fl = floor(xl);
        Py_ssize_t m = (Py_ssize_t)fl;
        double w = xl - fl;
        if (m >= n_levels) {
            m = n_levels - 1;
            w = 1.0;
        }
        Py_ssize_t lo = m >= 1 ? m - 1 : 0;
        double p = phase[i] - floor(phase[i]);
        double pos = p * (double)size;
        Py_ssize_t j = (Py_ssize_t)pos;
        if (j >= size) j = size - 1;
        double fr = pos - (double)j;
        const double *tl = tables + lo * width, *tm = tables + m * width;
        double a = tl[j] + fr * (tl[j + 1] - tl[j]);
        double b = tm[j] + fr * (tm[j + 1] - tm[j]);
        out[i] = a + w * (b - a);
    }
    Py_END_ALLOW_THREADS
    release(&bs);
    Py_RETURN_NONE;
fail:
    release(&bs);
    return NULL;
}

/* ------------------------------------------------------------------------ sine banks */
/* bank(out (C, n), sin_a, cos_a (K, C, anchors), cos_t, sin_t (K, C, G), offset, src (R, n),
 *      rows (K,), scale (K,), shift (K,))
 * bank_grid(..., lv (R, points), first, g, start, rows, scale, shift): amplitudes interpolated
 * from grid values (slope * (n - x0) + lv[r, j]), the level bank's own arithmetic. */
#define BANKRUN 256
HOT static PyObject *bank_common(PyObject *args, int grid_mode) {
    PyObject *o_out, *o_sa, *o_ca, *o_ct, *o_st, *o_src, *o_rows, *o_scale, *o_shift;
    long long offset, first = 0, g = 1, start = 0;
    Bufs bs = {.n = 0};
    if (grid_mode) {
        if (!PyArg_ParseTuple(args, "OOOOOLOLLLOOO", &o_out, &o_sa, &o_ca, &o_ct, &o_st, &offset,
                              &o_src, &first, &g, &start, &o_rows, &o_scale, &o_shift))
            return NULL;
    } else if (!PyArg_ParseTuple(args, "OOOOOLOOOO", &o_out, &o_sa, &o_ca, &o_ct, &o_st, &offset,
                                 &o_src, &o_rows, &o_scale, &o_shift))
        return NULL;
    ARR(out, double, o_out, 'd', 2, 1, "out");
    ARR(sin_a, double, o_sa, 'd', 3, 0, "sin_a");
    ARR(cos_a, double, o_ca, 'd', 3, 0, "cos_a");
    ARR(cos_t, double, o_ct, 'd', 3, 0, "cos_t");
    ARR(sin_t, double, o_st, 'd', 3, 0, "sin_t");
    ARR(src, double, o_src, 'd', 2, 0, grid_mode ? "lv" : "src");
    ARR(rows, int64_t, o_rows, 'q', 1, 0, "rows");
    ARR(scale, double, o_scale, 'd', 1, 0, "scale");
    ARR(shift, double, o_shift, 'd', 1, 0, "shift");
    Py_ssize_t C = dim(&bs, 0, 0), n = dim(&bs, 0, 1), K = dim(&bs, 1, 0),
               NA = dim(&bs, 1, 2), G = dim(&bs, 3, 2), R = dim(&bs, 5, 0),
               SW = dim(&bs, 5, 1);
    int ok = dim(&bs, 1, 1) == C && dim(&bs, 2, 0) == K && dim(&bs, 2, 1) == C &&
             dim(&bs, 2, 2) == NA && dim(&bs, 3, 0) == K && dim(&bs, 3, 1) == C &&
             dim(&bs, 4, 0) == K && dim(&bs, 4, 1) == C && dim(&bs, 4, 2) == G && G >= 1 &&
             dim(&bs, 6, 0) == K && dim(&bs, 7, 0) == K && dim(&bs, 8, 0) == K && offset >= 0 &&
             (n == 0 || (offset + n - 1) / G < NA);
    for (Py_ssize_t k = 0; ok && k < K; k++) ok = rows[k] < R;
    if (ok && !grid_mode) ok = R == 0 || SW >= n;
    if (ok && grid_mode)
        ok = g >= 1 && G % g == 0 && start >= first && (n == 0 || R == 0 ||
             (start + n - 1 - first) / g + 1 < SW);
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "sine bank: shapes do not agree");
        goto fail;
    }
    Py_BEGIN_ALLOW_THREADS
    if (K == 0) memset(out, 0, (size_t)(C * n) * sizeof(double));
    for (Py_ssize_t c0 = 0; c0 < C && K > 0; c0 += 2) { /* two channels at a time */
        Py_ssize_t cn = C - c0 < 2 ? C - c0 : 2;
        Py_ssize_t j = 0;
        int64_t s = offset / G;
        Py_ssize_t k0 = (Py_ssize_t)(offset - s * G);
        while (j < n) {
            /* a run of frames inside one anchor segment, summed over the partials in a
             * buffer that stays in L1 (the first partial added to 0.0, as to zeros); a
             * partial's amplitudes are formed once for both channels */
            Py_ssize_t m = n - j < G - k0 ? n - j : G - k0;
            if (m > BANKRUN) m = BANKRUN;
            double acc[2][BANKRUN], amp[BANKRUN];
            for (Py_ssize_t k = 0; k < K; k++) {
                double a = scale[k], b = shift[k];
                int64_t r = rows[k];
                const double *x = NULL; /* the amplitude source's row over the run */
                if (r >= 0 && grid_mode) { /* interpolated linearly, one grid piece at a time */
                    for (Py_ssize_t i = 0; i < m;) {
                        int64_t frame = start + j + i;
                        Py_ssize_t jj = (Py_ssize_t)((frame - first) / g);
                        int64_t x0 = first + (int64_t)jj * g;
                        Py_ssize_t d0 = (Py_ssize_t)(frame - x0);
                        Py_ssize_t len = m - i < x0 + g - frame ? m - i : (Py_ssize_t)(x0 + g - frame);
                        double y0 = src[r * SW + jj];
                        double slope = (src[r * SW + jj + 1] - y0) / ((double)(x0 + g) - (double)x0);
                        for (Py_ssize_t q = 0; q < len; q++) amp[i + q] = slope * (double)(d0 + q) + y0;
                        i += len;
                    }
                    x = amp;
                } else if (r >= 0) {
                    x = src + r * SW + j;
                }
                for (Py_ssize_t cc = 0; cc < cn; cc++) {
                    Py_ssize_t base = k * C + c0 + cc;
                    double sa = sin_a[base * NA + s], ca = cos_a[base * NA + s];
                    const double *ct = cos_t + base * G + k0, *st = sin_t + base * G + k0;
                    double *ac = acc[cc];
                    if (x && k == 0)
                        for (Py_ssize_t i = 0; i < m; i++)
                            ac[i] = 0.0 + (x[i] * a + b) * (sa * ct[i] + ca * st[i]);
                    else if (x)
                        for (Py_ssize_t i = 0; i < m; i++)
                            ac[i] += (x[i] * a + b) * (sa * ct[i] + ca * st[i]);
                    else if (k == 0)
                        for (Py_ssize_t i = 0; i < m; i++) ac[i] = 0.0 + b * (sa * ct[i] + ca * st[i]);
                    else
                        for (Py_ssize_t i = 0; i < m; i++) ac[i] += b * (sa * ct[i] + ca * st[i]);
                }
            }
            for (Py_ssize_t cc = 0; cc < cn; cc++)
                memcpy(out + (c0 + cc) * n + j, acc[cc], (size_t)m * sizeof(double));
            j += m;
            k0 += m;
            if (k0 == G) {
                s++;
                k0 = 0;
            }
        }
    }
    Py_END_ALLOW_THREADS
    release(&bs);
    Py_RETURN_NONE;
fail:
    release(&bs);
    return NULL;
}

static PyObject *k_bank(PyObject *self, PyObject *args) { return bank_common(args, 0); }
static PyObject *k_bank_grid(PyObject *self, PyObject *args) { return bank_common(args, 1); }

/* ------------------------------------------------------------------------ layer helpers */
/* One phase of pair_phase_angles: a number c (the integral of a constant: c t) or a curve
 * (tp, vp, kinds, a0, r, e, cum, base0). */
typedef struct {
    int curve;
    double c, base0;
    const double *cum;
    CurveArgs cv;
} PhaseSpec;

static int phase_spec(Bufs *bs, PyObject *o, PhaseSpec *p) {
    p->curve = 0;
    if (PyFloat_Check(o) || PyLong_Check(o)) {
        p->c = PyFloat_AsDouble(o);
        return PyErr_Occurred() ? -1 : 0;
    }
    if (!PyTuple_Check(o) || PyTuple_GET_SIZE(o) != 8) {
        PyErr_SetString(PyExc_TypeError, "pair_phase_angles: a phase is a number or a curve "
                                         "(tp, vp, kinds, a0, r, e, cum, base0)");
        return -1;
    }
#define IT(i) PyTuple_GET_ITEM(o, i)
    if (curve_args(bs, &p->cv, IT(0), IT(1), IT(2), IT(3), IT(4), IT(5)) < 0) return -1;
    if (!(p->cum = arr(bs, IT(6), 'd', 1, 0, "cum"))) return -1;
    if (dim(bs, bs->n - 1, 0) != p->cv.n) {
        PyErr_SetString(PyExc_ValueError, "pair_phase_angles: cum must match the points");
        return -1;
    }
    p->base0 = PyFloat_AsDouble(IT(7));
#undef IT
    p->curve = 1;
    return PyErr_Occurred() ? -1 : 0;
}

#define PAIR_RUN 512
HOT static PyObject *k_pair_phase_angles(PyObject *self, PyObject *args) {
    PyObject *o_common, *o_diff, *o_out;
    long long start;
    double sr;
    Bufs bs = {.n = 0};
    PhaseSpec pc, pd;
    if (!PyArg_ParseTuple(args, "LdOOO", &start, &sr, &o_common, &o_diff, &o_out)) return NULL;
    if (phase_spec(&bs, o_common, &pc) < 0 || phase_spec(&bs, o_diff, &pd) < 0) goto fail;
    ARR(out, float, o_out, 'f', 2, 1, "out");
    Py_ssize_t n = dim(&bs, bs.n - 1, 1);
    if (dim(&bs, bs.n - 1, 0) != 2 || !(sr > 0.0)) {
        PyErr_SetString(PyExc_ValueError, "pair_phase_angles: out is (2, n), sr > 0");
        goto fail;
    }
    Py_BEGIN_ALLOW_THREADS
    const float two_pi = (float)(2.0 * M_PI);
    double t[PAIR_RUN], a[PAIR_RUN], b[PAIR_RUN];
    for (Py_ssize_t j0 = 0; j0 < n; j0 += PAIR_RUN) {
        Py_ssize_t m = n - j0 < PAIR_RUN ? n - j0 : PAIR_RUN;
        for (Py_ssize_t i = 0; i < m; i++) t[i] = (double)(start + j0 + i) / sr;
        if (pc.curve) integral_runs(&pc.cv, pc.cum, pc.base0, t, a, m);
        else for (Py_ssize_t i = 0; i < m; i++) a[i] = pc.c * t[i];
        if (pd.curve) integral_runs(&pd.cv, pd.cum, pd.base0, t, b, m);
        else for (Py_ssize_t i = 0; i < m; i++) b[i] = pd.c * t[i];
        float *o0 = out + j0, *o1 = out + n + j0;
        for (Py_ssize_t i = 0; i < m; i++) {
            double h = 0.5 * b[i], p = a[i] + h, q = a[i] - h;
            o0[i] = (float)(p - floor(p)) * two_pi;
            o1[i] = (float)(q - floor(q)) * two_pi;
        }
    }
    Py_END_ALLOW_THREADS
    release(&bs);
    Py_RETURN_NONE;
fail:
    release(&bs);
    return NULL;
}

HOT static PyObject *k_grid_interp(PyObject *self, PyObject *args) {
    PyObject *o_lv, *o_out;
    long long first, start, g;
    Bufs bs = {.n = 0};
    if (!PyArg_ParseTuple(args, "OLLLO", &o_lv, &first, &start, &g, &o_out)) return NULL;
    ARR(lv, double, o_lv, 'd', 2, 0, "lv");
    ARR(out, double, o_out, 'd', 2, 1, "out");
    Py_ssize_t rows = dim(&bs, 1, 0), frames = dim(&bs, 1, 1), W = dim(&bs, 0, 1);
    if (dim(&bs, 0, 0) != rows || g < 1 || start < first ||
        (frames > 0 && (start + frames - 1 - first) / g + 1 >= W)) {
        PyErr_SetString(PyExc_ValueError, "grid_interp: the grid does not cover the block");
        goto fail;
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t r = 0; r < rows; r++) {
        Py_ssize_t i = 0;
        int64_t j = (start - first) / g;
        const double *l = lv + r * W;
        double *o = out + r * frames;
        while (i < frames) {
            double x0 = (double)(first + j * g);
            double slope = (l[j + 1] - l[j]) / ((double)(first + (j + 1) * g) - x0);
            double y0 = l[j];
            int64_t lim = first + (j + 1) * g - start;
            Py_ssize_t stop = frames < lim ? frames : (Py_ssize_t)lim;
            for (Py_ssize_t ii = i; ii < stop; ii++)
                o[ii] = slope * ((double)(start + ii) - x0) + y0;
            i = stop;
            j++;
        }
    }
    Py_END_ALLOW_THREADS
    release(&bs);
    Py_RETURN_NONE;
fail:
    release(&bs);
    return NULL;
}

/* ------------------------------------------------------------------------ loudness */
#define UP32 (1.0 + 1.0 / 8388608.0) /* times this, a float64 rounds to a float32 at or above it */

/* One sample through the two K-weighting sections (transposed direct form II, scipy's sosfilt
 * order of operations); co: b0 b1 b2 a1 a2 of each section, z: their states. */
static inline double kweight_step(double u, const double *co, double *z) {
    double y = co[0] * u + z[0];
    z[0] = co[1] * u - co[3] * y + z[1];
    z[1] = co[2] * u - co[4] * y;
    double w = co[5] * y + z[2];
    z[2] = co[6] * y - co[8] * w + z[3];
    z[3] = co[7] * y - co[9] * w;
    return w;
}

typedef double v2d __attribute__((vector_size(16)));

HOT static PyObject *k_kweight_sums(PyObject *self, PyObject *args) {
    PyObject *o_x, *o_co, *o_zi, *o_cuts, *o_sums, *o_hp;
    long long hop_left, hop;
    Bufs bs = {.n = 0};
    if (!PyArg_ParseTuple(args, "OOOOOLLO", &o_x, &o_co, &o_zi, &o_cuts, &o_sums, &hop_left,
                          &hop, &o_hp))
        return NULL;
    ARR(x, double, o_x, 'd', 2, 0, "x");
    ARR(co, double, o_co, 'd', 1, 0, "co");
    ARR(zi, double, o_zi, 'd', 2, 1, "zi");
    ARR(cuts, int64_t, o_cuts, 'q', 1, 0, "cuts");
    ARR(sums, double, o_sums, 'd', 2, 1, "sums");
    ARR(hp, float, o_hp, 'f', 1, 1, "hop_peaks");
    Py_ssize_t C = dim(&bs, 0, 0), n = dim(&bs, 0, 1), S = dim(&bs, 3, 0), H = dim(&bs, 5, 0);
    int ok = dim(&bs, 1, 0) == 10 && dim(&bs, 2, 0) == C && dim(&bs, 2, 1) == 4 &&
             dim(&bs, 4, 0) == C && dim(&bs, 4, 1) == S && S >= 1 && cuts[S - 1] == n;
    for (Py_ssize_t s = 0; ok && s < S; s++) ok = cuts[s] >= 0 && cuts[s] <= n &&
                                                  (s == 0 || cuts[s] >= cuts[s - 1]);
    if (ok && hop > 0 && n > 0) ok = hop_left >= 1 && (n - hop_left + hop - 1) / hop + 1 <= H;
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "kweight_sums: shapes do not agree");
        goto fail;
    }
    double peak = 0.0;
    Py_BEGIN_ALLOW_THREADS
    v2d K[10]; /* each coefficient twice: a pair of channels in one vector pair */
    for (int j = 0; j < 10; j++) K[j] = (v2d){co[j], co[j]};
    Py_ssize_t c = 0;
    while (c < C) {
        int pair = c + 1 < C; /* two channels at once: two independent recursions */
        double *zp = zi + 4 * c;
        double p[4] = {zp[0], zp[1], zp[2], zp[3]}, q[4] = {0, 0, 0, 0};
        if (pair) memcpy(q, zp + 4, sizeof q);
        const double *xp = x + c * n, *xq = x + (c + 1) * n;
        Py_ssize_t i = 0, h = 0;
        int64_t left = hop_left;
        for (Py_ssize_t s = 0; s < S; s++) {
            /* the first segment continues the sub-block the previous call left open (its sum
             * so far is passed in sums[:, 0]): one running sum per sub-block, so the sums do
             * not depend on where the blocks were cut */
            double acc_p = s == 0 ? sums[c * S] : 0.0;
            double acc_q = s == 0 && pair ? sums[(c + 1) * S] : 0.0;
            Py_ssize_t stop = cuts[s];
            if (pair) { /* both recursions in one vector pair: the same operations, so the
                         * same bits, in half the instructions */
                v2d P0 = {p[0], q[0]}, P1 = {p[1], q[1]}, P2 = {p[2], q[2]}, P3 = {p[3], q[3]};
                v2d acc = {acc_p, acc_q};
                for (; i < stop; i++) {
                    v2d u = {xp[i], xq[i]};
                    double a = fabs(xp[i]), av = fabs(xq[i]);
                    v2d y = K[0] * u + P0; /* = kweight_step, lane by lane */
                    P0 = K[1] * u - K[3] * y + P1;
                    P1 = K[2] * u - K[4] * y;
                    v2d w = K[5] * y + P2;
                    P2 = K[6] * y - K[8] * w + P3;
                    P3 = K[7] * y - K[9] * w;
                    acc += w * w;
                    if (av > a) a = av;
                    if (a > peak) peak = a;
                    if (hop > 0) {
                        if (a > hp[h]) hp[h] = (float)(a * UP32);
                        if (--left == 0) { h++; left = hop; }
                    }
                }
                p[0] = P0[0]; p[1] = P1[0]; p[2] = P2[0]; p[3] = P3[0];
                q[0] = P0[1]; q[1] = P1[1]; q[2] = P2[1]; q[3] = P3[1];
                acc_p = acc[0];
                acc_q = acc[1];
            }
            for (; i < stop; i++) {
                double a = fabs(xp[i]);
                double w = kweight_step(xp[i], co, p);
                acc_p += w * w;
                if (a > peak) peak = a;
                if (hop > 0) {
                    if (a > hp[h]) hp[h] = (float)(a * UP32);
                    if (--left == 0) { h++; left = hop; }
                }
            }
            sums[c * S + s] = acc_p;
            if (pair) sums[(c + 1) * S + s] = acc_q;
        }
        memcpy(zp, p, sizeof p);
        if (pair) memcpy(zp + 4, q, sizeof q);
        c += pair ? 2 : 1;
    }
    Py_END_ALLOW_THREADS
    release(&bs);
    return PyFloat_FromDouble(peak);
fail:
    release(&bs);
    return NULL;
}

/* The full scan of samples [i0, i1) of one channel: each local maximum of |b| at or above thr
 * gets its 3 x P interpolated points around it. */
#define TP_CORE 6 /* taps each side of the centre that screened_run's bound sums */
#define TP_NEAR 3 /* taps each side of the centre in hop_tp's first, cheaper bound */
#define TP_MAXTAPS 64
typedef double v4d __attribute__((vector_size(32)));
typedef long long v4di __attribute__((vector_size(32)));

/* The 3 x 4 interpolated points around candidate i, taps [k0, k1) only: Y[r][p] = sum_k
 * h[p, k] b[m0 + r - k], each lane the same multiplications and additions in k order as the
 * scalar sum (hT: the taps transposed, hT[k] = the four phases' tap k). */
static inline __attribute__((always_inline)) void tp_points4(const double *b, Py_ssize_t m0,
                                                             const v4d *hT, Py_ssize_t k0,
                                                             Py_ssize_t k1, v4d Y[3]) {
    v4d y0 = {0, 0, 0, 0}, y1 = y0, y2 = y0;
    for (Py_ssize_t k = k0; k < k1; k++) {
        v4d hk = hT[k];
        double x0 = b[m0 - k], x1 = b[m0 + 1 - k], x2 = b[m0 + 2 - k];
        y0 += hk * (v4d){x0, x0, x0, x0};
        y1 += hk * (v4d){x1, x1, x1, x1};
        y2 += hk * (v4d){x2, x2, x2, x2};
    }
    Y[0] = y0; Y[1] = y1; Y[2] = y2;
}

static inline __attribute__((always_inline)) void screened_run(
    const double *b, Py_ssize_t i0, Py_ssize_t i1, Py_ssize_t n, const double *h, Py_ssize_t P,
    Py_ssize_t T, Py_ssize_t d, double thr, double *tp_io, double *peak_io,
    const v4d *hT, const double *tail, double reach) {
    double tp = *tp_io, peak = *peak_io;
    Py_ssize_t k0 = d - TP_CORE > 0 ? d - TP_CORE : 0, k1 = d + TP_CORE < T ? d + TP_CORE + 1 : T;
    const v4d tail4 = {tail[0], tail[1], tail[2], tail[3]};
    for (Py_ssize_t i = i0; i < i1; i++) {
        double a = fabs(b[i]);
        if (a > peak) peak = a;
        if (a < thr || a < fabs(b[i - 1]) || a < fabs(b[i + 1])) continue;
        /* the 3 x P interpolated points around i: y[m, p] = sum_k h[p, k] b[m - k] for
         * m = i + d - 1 .. i + d + 1, each summed in k order (so the same bits as one
         * point at a time), all twelve at once: independent sums keep the FPU busy */
        Py_ssize_t m0 = i + d - 1;
        if (hT && m0 - (T - 1) >= 0 && m0 + 2 <= n - 1) { /* four phases, no edge clamping */
            v4d Y[3];
            /* first a bound from the central taps: |y| <= |their sum| + tail[p] * (the
             * largest |b| the other taps reach), with room for rounding. When no point can
             * pass the true peak found so far, they cannot change it: skipped */
            double big = reach;
            if (!(big > 0.0)) { /* (not given: the largest |b| within reach, four at once) */
                double g[4] = {0, 0, 0, 0};
                Py_ssize_t j = m0 - (T - 1);
                for (; j + 3 <= m0 + 2; j += 4)
                    for (int u = 0; u < 4; u++) {
                        double v = fabs(b[j + u]);
                        g[u] = v > g[u] ? v : g[u];
                    }
                for (; j <= m0 + 2; j++) {
                    double v = fabs(b[j]);
                    g[0] = v > g[0] ? v : g[0];
                }
                big = g[0] > g[1] ? g[0] : g[1];
                big = big > g[2] ? big : g[2];
                big = big > g[3] ? big : g[3];
            }
            /* (two partial sums per point: a shorter chain; the bound's rounding is far
             * inside its 1e-9 room) */
            v4d c0 = {0, 0, 0, 0}, c1 = c0, c2 = c0, d0 = c0, d1 = c0, d2 = c0;
            Py_ssize_t k = k0;
            for (; k + 1 < k1; k += 2) {
                v4d ha = hT[k], hb = hT[k + 1];
                double a0 = b[m0 - k], a1 = b[m0 + 1 - k], a2 = b[m0 + 2 - k];
                double b0 = b[m0 - k - 1], b1 = b[m0 - k], b2 = b[m0 + 1 - k];
                c0 += ha * (v4d){a0, a0, a0, a0};
                c1 += ha * (v4d){a1, a1, a1, a1};
                c2 += ha * (v4d){a2, a2, a2, a2};
                d0 += hb * (v4d){b0, b0, b0, b0};
                d1 += hb * (v4d){b1, b1, b1, b1};
                d2 += hb * (v4d){b2, b2, b2, b2};
            }
            if (k < k1) {
                double a0 = b[m0 - k], a1 = b[m0 + 1 - k], a2 = b[m0 + 2 - k];
                c0 += hT[k] * (v4d){a0, a0, a0, a0};
                c1 += hT[k] * (v4d){a1, a1, a1, a1};
                c2 += hT[k] * (v4d){a2, a2, a2, a2};
            }
            const v4di nosign = {INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX};
            v4d room = tail4 * (v4d){big, big, big, big};
            v4d lim = {tp, tp, tp, tp};
            v4d e0 = (v4d)((v4di)(c0 + d0) & nosign) + room;
            v4d e1 = (v4d)((v4di)(c1 + d1) & nosign) + room;
            v4d e2 = (v4d)((v4di)(c2 + d2) & nosign) + room;
            const v4d up = {1.0 + 1e-9, 1.0 + 1e-9, 1.0 + 1e-9, 1.0 + 1e-9};
            v4di hit = (e0 * up >= lim) | (e1 * up >= lim) | (e2 * up >= lim);
            if (!(hit[0] | hit[1] | hit[2] | hit[3])) continue;
            tp_points4(b, m0, hT, 0, T, Y);
            for (int r = 0; r < 3; r++)
                for (int p = 0; p < 4; p++)
                    if (fabs(Y[r][p]) > tp) tp = fabs(Y[r][p]);
            continue;
        }
        double y[3][4] = {{0}};
        if (m0 - (T - 1) >= 0 && m0 + 2 <= n - 1) { /* no edge clamping needed */
            for (Py_ssize_t k = 0; k < T; k++) {
                double x0 = b[m0 - k], x1 = b[m0 + 1 - k], x2 = b[m0 + 2 - k];
                for (Py_ssize_t p = 0; p < P; p++) {
                    double hk = h[p * T + k];
                    y[0][p] += hk * x0;
                    y[1][p] += hk * x1;
                    y[2][p] += hk * x2;
                }
            }
        } else {
            for (Py_ssize_t k = 0; k < T; k++)
                for (int r = 0; r < 3; r++) {
                    Py_ssize_t j = m0 + r - k;
                    if (j < 0) j = 0;
                    if (j > n - 1) j = n - 1;
                    for (Py_ssize_t p = 0; p < P; p++) y[r][p] += h[p * T + k] * b[j];
                }
        }
        for (int r = 0; r < 3; r++)
            for (Py_ssize_t p = 0; p < P; p++)
                if (fabs(y[r][p]) > tp) tp = fabs(y[r][p]);
    }
    *tp_io = tp;
    *peak_io = peak;
}

HOT static PyObject *k_screened_tp(PyObject *self, PyObject *args) {
    PyObject *o_buf, *o_h;
    long long lo, hi;
    double thr, tp, peak, reach = 0.0;
    Bufs bs = {.n = 0};
    if (!PyArg_ParseTuple(args, "OOLLddd|d", &o_buf, &o_h, &lo, &hi, &thr, &tp, &peak, &reach))
        return NULL;
    ARR(buf, double, o_buf, 'd', 2, 0, "buf");
    ARR(h, double, o_h, 'd', 2, 0, "h");
    Py_ssize_t C = dim(&bs, 0, 0), n = dim(&bs, 0, 1), P = dim(&bs, 1, 0), T = dim(&bs, 1, 1);
    if (hi > lo && (lo < 1 || hi > n - 1)) {
        PyErr_SetString(PyExc_ValueError, "screened_tp: the scan must stay inside the buffer");
        goto fail;
    }
    if (P > 4) {
        PyErr_SetString(PyExc_ValueError, "screened_tp: at most 4 phases");
        goto fail;
    }
    Py_BEGIN_ALLOW_THREADS
    Py_ssize_t d = (T - 1) / 2;
    /* four phases (the meter's interpolator): the taps transposed for the vector sums, and
     * per phase the sum of |h| over the taps outside the central 2 TP_CORE + 1 */
    v4d hT[TP_MAXTAPS];
    double tail[4] = {0, 0, 0, 0};
    int vec = P == 4 && T <= TP_MAXTAPS;
    for (Py_ssize_t k = 0; vec && k < T; k++) {
        hT[k] = (v4d){h[k], h[T + k], h[2 * T + k], h[3 * T + k]};
        for (int p = 0; p < 4; p++)
            if (k < d - TP_CORE || k > d + TP_CORE) tail[p] += fabs(h[p * T + k]);
    }
    for (Py_ssize_t c = 0; c < C; c++) {
        const double *b = buf + c * n;
        for (Py_ssize_t i0 = lo; i0 < hi; i0 += 32) {
            Py_ssize_t i1 = i0 + 32 < hi ? i0 + 32 : hi;
            /* a run of 32 samples all below thr holds no point to interpolate: only its
             * peak counts (taken as the largest bit pattern of |x|, a loop the compiler
             * vectorises; patterns past infinity are NaNs: those runs take the full scan) */
            int64_t top = 0;
            for (Py_ssize_t i = i0; i < i1; i++) {
                double a = fabs(b[i]);
                int64_t bits;
                memcpy(&bits, &a, sizeof bits);
                top = bits > top ? bits : top;
            }
            double run_peak;
            memcpy(&run_peak, &top, sizeof run_peak);
            if (top <= 0x7FF0000000000000LL && run_peak < thr) {
                if (run_peak > peak) peak = run_peak;
                continue;
            }
            screened_run(b, i0, i1, n, h, P, T, d, thr, &tp, &peak, vec ? hT : NULL, tail,
                         reach);
        }
    }
    Py_END_ALLOW_THREADS
    release(&bs);
    return Py_BuildValue("dd", tp, peak);
fail:
    release(&bs);
    return NULL;
}

HOT static PyObject *k_hop_tp(PyObject *self, PyObject *args) {
    PyObject *o_x, *o_h, *o_hops, *o_out;
    long long x_first, hop, total;
    double thr = -1.0;
    int r32 = 0;
    Bufs bs = {.n = 0};
    if (!PyArg_ParseTuple(args, "OOLOLLO|dp", &o_x, &o_h, &x_first, &o_hops, &hop, &total, &o_out,
                          &thr, &r32))
        return NULL;
    ARR(x, double, o_x, 'd', 2, 0, "x");
    ARR(h, double, o_h, 'd', 2, 0, "h");
    ARR(hops, int64_t, o_hops, 'q', 1, 0, "hops");
    ARR(out, double, o_out, 'd', 1, 1, "out");
    Py_ssize_t C = dim(&bs, 0, 0), n = dim(&bs, 0, 1), P = dim(&bs, 1, 0), T = dim(&bs, 1, 1);
    Py_ssize_t H = dim(&bs, 2, 0);
    int ok = P == 4 && dim(&bs, 3, 0) == H && hop >= 1;
    Py_ssize_t D = (T - 1) / 2;
    for (Py_ssize_t i = 0; ok && i < H; i++) { /* every sample read lies inside x */
        int64_t a = hops[i] * hop, b = a + hop < total ? a + hop : total;
        int64_t m0 = a + D > T - 1 ? a + D : T - 1, m1 = b + D < total ? b + D : total;
        ok = a >= x_first && b <= x_first + n && (m1 <= m0 || (m0 - (T - 1) >= x_first &&
                                                              m1 - 1 < x_first + n));
    }
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "hop_tp: the samples do not cover the hops");
        goto fail;
    }
    Py_BEGIN_ALLOW_THREADS
    /* thr > 0: a point is interpolated only when a bound from its central 2 TP_CORE + 1 taps
     * (their sum, plus the other taps' sum |h| times the largest sample the point reads, with
     * room for rounding) can pass thr; the others cannot reach it, so a hop's result is its
     * exact true peak whenever that is above thr, and at most thr otherwise. r32: of the
     * samples rounded to float32 (the bound, from the samples as given, gets room for the
     * rounding: 2^-24 of each sample, far inside 1e-5 of a bound at least tail * big) */
    int screen = thr > 0.0 && T <= TP_MAXTAPS;
    v4d hT[TP_MAXTAPS], tail4 = {0, 0, 0, 0}, near4 = {0, 0, 0, 0};
    double gain = 0.0; /* the interpolator's largest sum |h| */
    Py_ssize_t k0 = D - TP_CORE > 0 ? D - TP_CORE : 0, k1 = D + TP_CORE < T ? D + TP_CORE + 1 : T;
    /* a first, cheaper bound from the central 2 TP_NEAR + 1 taps rules out most points */
    Py_ssize_t j0 = D - TP_NEAR > 0 ? D - TP_NEAR : 0, j1 = D + TP_NEAR < T ? D + TP_NEAR + 1 : T;
    for (Py_ssize_t k = 0; screen && k < T; k++) {
        hT[k] = (v4d){h[k], h[T + k], h[2 * T + k], h[3 * T + k]};
        for (int p = 0; p < 4; p++) {
            if (k < k0 || k >= k1) tail4[p] += fabs(h[p * T + k]);
            if (k < j0 || k >= j1) near4[p] += fabs(h[p * T + k]);
        }
    }
    for (int p = 0; screen && p < 4; p++) {
        double g = 0.0;
        for (Py_ssize_t k = 0; k < T; k++) g += fabs(h[p * T + k]);
        gain = g > gain ? g : gain;
    }
    const double up = r32 ? 1.0 + 1e-5 : 1.0 + 1e-9;
    for (Py_ssize_t i = 0; i < H; i++) {
        int64_t a = hops[i] * hop, b = a + hop < total ? a + hop : total;
        double best = 0.0;
        for (Py_ssize_t c = 0; c < C; c++) {
            const double *xc = x + c * n;
            for (int64_t f = a; f < b; f++) {
                double v = r32 ? fabs((double)(float)xc[f - x_first]) : fabs(xc[f - x_first]);
                if (v > best) best = v;
            }
            int64_t m0 = a + D > T - 1 ? a + D : T - 1, m1 = b + D < total ? b + D : total;
            double big = 0.0;
            if (screen && m1 > m0) { /* the largest sample the hop's points read */
                for (int64_t f = m0 - (T - 1); f < m1; f++) {
                    double v = fabs(xc[f - x_first]);
                    big = v > big ? v : big;
                }
                if (!(gain * big * up > thr)) continue; /* (NaN: interpolated) */
            }
            const v4d bigs = {big, big, big, big}, ups = {up, up, up, up};
            const v4d room = tail4 * bigs, near_room = near4 * bigs;
            const v4di nosign = {INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX};
            for (int64_t m = m0; m < m1; m++) {
                const double *base = xc + (m - x_first);
                if (screen) {
                    v4d s = {0, 0, 0, 0};
                    for (Py_ssize_t k = j0; k < j1; k++) {
                        double v = base[-k];
                        s += hT[k] * (v4d){v, v, v, v};
                    }
                    v4d e = ((v4d)((v4di)s & nosign) + near_room) * ups;
                    if (!(e[0] > thr || e[1] > thr || e[2] > thr || e[3] > thr) &&
                        e[0] == e[0] && e[1] == e[1] && e[2] == e[2] && e[3] == e[3])
                        continue;
                    s = (v4d){0, 0, 0, 0};
                    for (Py_ssize_t k = k0; k < k1; k++) {
                        double v = base[-k];
                        s += hT[k] * (v4d){v, v, v, v};
                    }
                    e = ((v4d)((v4di)s & nosign) + room) * ups;
                    if (!(e[0] > thr || e[1] > thr || e[2] > thr || e[3] > thr) &&
                        e[0] == e[0] && e[1] == e[1] && e[2] == e[2] && e[3] == e[3])
                        continue;
                }
                double y0 = 0.0, y1 = 0.0, y2 = 0.0, y3 = 0.0;
                for (Py_ssize_t k = 0; k < T; k++) {
                    double v = r32 ? (double)(float)base[-k] : base[-k];
                    y0 += h[k] * v;
                    y1 += h[T + k] * v;
                    y2 += h[2 * T + k] * v;
                    y3 += h[3 * T + k] * v;
                }
                y0 = fabs(y0); y1 = fabs(y1); y2 = fabs(y2); y3 = fabs(y3);
                if (y0 > best) best = y0;
                if (y1 > best) best = y1;
                if (y2 > best) best = y2;
                if (y3 > best) best = y3;
            }
        }
        out[i] = best;
    }
    Py_END_ALLOW_THREADS
    release(&bs);
    Py_RETURN_NONE;
fail:
    release(&bs);
    return NULL;
}

/* ------------------------------------------------------------------------ beat tracking */
/* beat_dp(score, period, tightness, cum, back): the beat tracker's dynamic programme
 * (resonator.analysis.beats): cum[t] = score[t] + max over u in [t - ceil(2p), t - floor(p/2)]
 * of cum[u] - tightness * log((t - u) / p)^2 when that maximum is > 0 (back[t] = u), else
 * score[t] (back[t] = -1); p = period[t] in frames. The first u with the largest value wins.
 * Frames before `first` (default 0) are history: their cum is read, not written (a block of a
 * longer programme whose earlier frames were computed by an earlier call). */
static PyObject *k_beat_dp(PyObject *self, PyObject *args) {
    PyObject *o_s, *o_p, *o_cum, *o_back;
    double tightness;
    Py_ssize_t first = 0;
    Bufs bs = {.n = 0};
    if (!PyArg_ParseTuple(args, "OOdOO|n", &o_s, &o_p, &tightness, &o_cum, &o_back, &first))
        return NULL;
    ARR(score, double, o_s, 'd', 1, 0, "score");
    ARR(period, double, o_p, 'd', 1, 0, "period");
    ARR(cum, double, o_cum, 'd', 1, 1, "cum");
    ARR(back, int64_t, o_back, 'q', 1, 1, "back");
    Py_ssize_t n = dim(&bs, 0, 0);
    if (dim(&bs, 1, 0) != n || dim(&bs, 2, 0) != n || dim(&bs, 3, 0) != n) {
        PyErr_SetString(PyExc_ValueError, "beat_dp: score, period, cum and back differ in length");
        goto fail;
    }
    if (first < 0 || first > n) {
        PyErr_SetString(PyExc_ValueError, "beat_dp: first is outside the arrays");
        goto fail;
    }
    /* pen[d] = tightness * log(d / p)^2 for lags d in [dlo, dhi] of the period last_p (the
     * expression of the loop it replaces: the same bits), made again when the period changes */
    double *pen = NULL, last_p = NAN;
    Py_ssize_t cap = 0, dlo = 0, dhi = -1;
    int nomem = 0;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t t = first; t < n; t++) {
        double p = period[t];
        int64_t lo = (int64_t)t - (int64_t)ceil(2.0 * p);
        int64_t hi = (int64_t)t - (int64_t)floor(0.5 * p);
        double best = -1e300;
        int64_t arg = -1;
        if (lo < 0) lo = 0;
        if (hi > (int64_t)t - 1) hi = (int64_t)t - 1; /* u = t: log(0), never the best */
        if (lo <= hi) {
            Py_ssize_t d0 = (Py_ssize_t)(t - hi), d1 = (Py_ssize_t)(t - lo);
            if (p != last_p || d0 < dlo) { /* a new period: start the table again */
                last_p = p;
                dlo = d0;
                dhi = d0 - 1;
            }
            if (d1 > dhi) {
                if (d1 >= cap) {
                    Py_ssize_t want = d1 + 1 > 2 * cap ? d1 + 1 : 2 * cap;
                    double *grown = (double *)realloc(pen, (size_t)want * sizeof(double));
                    if (!grown) {
                        nomem = 1;
                        break;
                    }
                    pen = grown;
                    cap = want;
                }
                for (Py_ssize_t d = dhi + 1; d <= d1; d++) {
                    double r = log((double)d / p);
                    pen[d] = tightness * r * r;
                }
                dhi = d1;
            }
            for (int64_t u = lo; u <= hi; u++) {
                double v = cum[u] - pen[t - u];
                if (v > best) {
                    best = v;
                    arg = u;
                }
            }
        }
        if (arg >= 0 && best > 0.0) {
            cum[t] = score[t] + best;
            back[t] = arg;
        } else {
            cum[t] = score[t];
            back[t] = -1;
        }
    }
    Py_END_ALLOW_THREADS
    free(pen);
    if (nomem) {
        PyErr_NoMemory();
        goto fail;
    }
    release(&bs);
    Py_RETURN_NONE;
fail:
    release(&bs);
    return NULL;
}

/* ------------------------------------------------------------------------ quantisation */
/* quantize(block (C, n) float32 or float64, start, seed, full_scale, dither,
 * out (n, C) int16 or int32[, gain]) -> (clipped, peak), in one pass over the frames.
 * One sample: with a gain, rounded to float32 and times the gain in float64 (resonator's
 * mastering stage: ``np.multiply(x.astype(float32), gain, dtype=float64)``), then dithered,
 * clipped and rounded; counts clipping and keeps the peak of the scaled value. */
typedef struct {
    double gain, full_scale, lo, hi, peak;
    long long clipped;
} QState;

static inline __attribute__((always_inline)) double qsample(double x, double noise, QState *q,
                                                            int has_gain) {
    if (has_gain) x = (double)(float)x * q->gain;
    double ax = fabs(x);
    q->peak = ax > q->peak ? ax : q->peak;
    double v = x * q->full_scale + noise;
    q->clipped += (v > q->hi + 0.5) | (v < q->lo - 0.5);
    v = v < q->lo ? q->lo : (v > q->hi ? q->hi : v);
    double t = v + 0.5; /* floor(t) for |t| < 2**62, without a libm call */
    int64_t r = (int64_t)t;
    return (double)(r - ((double)r > t));
}

/* The loop with its flags as constants (each call site below is one specialised copy, with
 * no tests left inside the loop); the arithmetic is the same in every copy. */
static inline __attribute__((always_inline)) void qloop(const void *src, void *dst, Py_ssize_t C,
                                                        Py_ssize_t n, int64_t start,
                                                        uint64_t base, int single,
                                                        int has_gain, int wide, int dither,
                                                        QState *q) {
    const double inv = 1.0 / 65536.0;
    const float *bf = (const float *)src;
    const double *bd = (const double *)src;
    int16_t *o16 = (int16_t *)dst;
    int32_t *o32 = (int32_t *)dst;
    for (Py_ssize_t j = 0; j < n; j++) {
        for (Py_ssize_t c2 = 0; c2 < C; c2 += 2) {
            /* the dither of (channel pair c2, frame start + j): two TPDF values from one hash */
            double n0 = 0.0, n1 = 0.0;
            if (dither) {
                uint64_t h = mix64((base ^ ((uint64_t)c2 << 40)) ^ (uint64_t)(start + j));
                n0 = ((double)(h & 0xFFFF) - (double)((h >> 16) & 0xFFFF)) * inv;
                n1 = ((double)((h >> 32) & 0xFFFF) - (double)(h >> 48)) * inv;
            }
            for (int k = 0; k < 2 && c2 + k < C; k++) {
                Py_ssize_t c = c2 + k;
                double x = single ? (double)bf[c * n + j] : bd[c * n + j];
                double r = qsample(x, k ? n1 : n0, q, has_gain);
                if (wide) o32[j * C + c] = (int32_t)r;
                else o16[j * C + c] = (int16_t)r;
            }
        }
    }
}

/* 16-bit dithered stereo, the usual output, in runs of QRUN frames: first the dither of the
 * run (the hashes), then the samples in a loop with no calls and no branches that the compiler
 * turns into vector code. The same values as qloop: the peak is kept as the largest bit
 * pattern of |x| (for numbers >= 0 the patterns sort as the numbers do). */
#define QRUN 256
static inline __attribute__((always_inline)) void qstereo16(const void *src, int16_t *o,
                                                            Py_ssize_t n, int64_t start,
                                                            uint64_t base, int single,
                                                            int has_gain, QState *q) {
    const double inv = 1.0 / 65536.0;
    const float *bf = (const float *)src;
    const double *bd = (const double *)src;
    const double gain = q->gain, fs = q->full_scale, lo = q->lo, hi = q->hi;
    const double clip_hi = hi + 0.5, clip_lo = lo - 0.5;
    int64_t peak_bits = 0;
    memcpy(&peak_bits, &q->peak, sizeof peak_bits);
    long long clipped = 0;
    double nz0[QRUN], nz1[QRUN];
    for (Py_ssize_t j0 = 0; j0 < n; j0 += QRUN) {
        Py_ssize_t m = n - j0 < QRUN ? n - j0 : QRUN;
        for (Py_ssize_t j = 0; j < m; j++) {
            uint64_t h = mix64(base ^ (uint64_t)(start + j0 + j));
            nz0[j] = ((double)(h & 0xFFFF) - (double)((h >> 16) & 0xFFFF)) * inv;
            nz1[j] = ((double)((h >> 32) & 0xFFFF) - (double)(h >> 48)) * inv;
        }
        for (Py_ssize_t j = 0; j < m; j++) {
            for (int c = 0; c < 2; c++) {
                double x = single ? (double)bf[c * n + j0 + j] : bd[c * n + j0 + j];
                if (has_gain) x = (double)(float)x * gain;
                double ax = fabs(x);
                int64_t bits;
                memcpy(&bits, &ax, sizeof bits);
                bits = bits > 0x7FF0000000000000LL ? 0 : bits; /* a NaN is no peak */
                peak_bits = bits > peak_bits ? bits : peak_bits;
                double v = x * fs + (c ? nz1[j] : nz0[j]);
                clipped += (v > clip_hi) | (v < clip_lo);
                v = v < lo ? lo : (v > hi ? hi : v);
                double t = v + 0.5;
                int32_t r = (int32_t)t; /* floor(t): |t| < 2**31 */
                r -= (double)r > t;
                o[(j0 + j) * 2 + c] = (int16_t)r;
            }
        }
    }
    memcpy(&q->peak, &peak_bits, sizeof peak_bits);
    q->clipped += clipped;
}

HOT static PyObject *k_quantize(PyObject *self, PyObject *args) {
    PyObject *o_block, *o_out, *o_gain = Py_None;
    long long start;
    unsigned long long seed;
    double full_scale;
    int dither;
    Bufs bs = {.n = 0};
    if (!PyArg_ParseTuple(args, "OLKdpO|O", &o_block, &start, &seed, &full_scale, &dither,
                          &o_out, &o_gain))
        return NULL;
    int has_gain = o_gain != Py_None;
    double gain = has_gain ? PyFloat_AsDouble(o_gain) : 1.0;
    if (has_gain && gain == -1.0 && PyErr_Occurred()) return NULL;
    if (PyObject_GetBuffer(o_block, &bs.b[bs.n], PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
        PyErr_Clear();
        PyErr_SetString(PyExc_TypeError, "block must be a C-contiguous array");
        return NULL;
    }
    bs.n++;
    Py_buffer *bv = &bs.b[0];
    int single = kind_matches(bv, 'f');
    if (!(single || kind_matches(bv, 'd')) || bv->ndim != 2) {
        PyErr_SetString(PyExc_TypeError, "quantize: block is a 2-D float32 or float64 array");
        goto fail;
    }
    Py_ssize_t C = dim(&bs, 0, 0), n = dim(&bs, 0, 1);
    if (PyObject_GetBuffer(o_out, &bs.b[bs.n], PyBUF_C_CONTIGUOUS | PyBUF_FORMAT |
                           PyBUF_WRITABLE) < 0)
        goto fail;
    bs.n++;
    Py_buffer *ov = &bs.b[bs.n - 1];
    int wide = kind_matches(ov, 'i');
    if (!(wide || kind_matches(ov, 'h')) || ov->ndim != 2 || ov->shape[0] != n ||
        ov->shape[1] != C) {
        PyErr_SetString(PyExc_ValueError, "quantize: out is int16 or int32 (frames, channels)");
        goto fail;
    }
    QState q = {gain, full_scale, -full_scale, full_scale - 1.0, 0.0, 0};
    Py_BEGIN_ALLOW_THREADS
    const uint64_t base = mix64((uint64_t)seed ^ 0x5DEECE66DULL);
    const void *src = bv->buf;
    void *dst = ov->buf;
    /* the usual cases get their own copies of the loop: 16-bit dithered stereo, float32
     * (replayed) or float64 (rendered) samples, with or without a gain */
    if (C == 2 && dither && !wide && full_scale <= 2147483648.0) {
        if (single && has_gain) qstereo16(src, dst, n, start, base, 1, 1, &q);
        else if (single) qstereo16(src, dst, n, start, base, 1, 0, &q);
        else if (has_gain) qstereo16(src, dst, n, start, base, 0, 1, &q);
        else qstereo16(src, dst, n, start, base, 0, 0, &q);
    } else {
        qloop(src, dst, C, n, start, base, single, has_gain, wide, dither, &q);
    }
    Py_END_ALLOW_THREADS
    release(&bs);
    return Py_BuildValue("Ld", q.clipped, q.peak);
fail:
    release(&bs);
    return NULL;
}

static PyObject *k_mix64(PyObject *self, PyObject *args) {
    unsigned long long x;
    if (!PyArg_ParseTuple(args, "K", &x)) return NULL;
    return PyLong_FromUnsignedLongLong(mix64((uint64_t)x));
}

/* ------------------------------------------------------------------------ module */
/* ------------------------------------------------------------------------ resampling */
/* resample(x (C, n) float32, h (L,) float64, up, down, half, x_first, m0, out (C, count)
 * float32): output frame m = m0 + j is sum_i x[i] h[m down - i up + half] over the input
 * frames i (absolute; x holds frames x_first ..) the filter reaches, summed in increasing i in
 * double and rounded once to float32. */
static PyObject *k_resample(PyObject *self, PyObject *args) {
    PyObject *o_x, *o_h, *o_out;
    long long up, down, half, x_first, m0;
    Bufs bs = {.n = 0};
    if (!PyArg_ParseTuple(args, "OOLLLLLO", &o_x, &o_h, &up, &down, &half, &x_first, &m0,
                          &o_out))
        return NULL;
    ARR(x, float, o_x, 'f', 2, 0, "x");
    ARR(h, double, o_h, 'd', 1, 0, "h");
    ARR(out, float, o_out, 'f', 2, 1, "out");
    Py_ssize_t C = dim(&bs, 0, 0), n = dim(&bs, 0, 1), L = dim(&bs, 1, 0);
    Py_ssize_t count = dim(&bs, 2, 1);
    int ok = up >= 1 && down >= 1 && half >= 0 && L >= 1 && dim(&bs, 2, 0) == C &&
             m0 * down + half >= 0;
    if (ok && count > 0) {
        int64_t t0 = m0 * down + half, t1 = (m0 + count - 1) * down + half;
        int64_t lo = t0 - (L - 1) >= 0 ? (t0 - (L - 1) + up - 1) / up
                                       : -((L - 1 - t0) / up);
        ok = lo >= x_first && t1 / up < x_first + n;
    }
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "resample: the input does not cover the outputs");
        goto fail;
    }
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t c = 0; c < C; c++) {
        const float *xc = x + c * n;
        float *oc = out + c * count;
        for (Py_ssize_t j = 0; j < count; j++) {
            int64_t t = (m0 + j) * down + half;
            int64_t hi = t / up;
            int64_t lo = t - (L - 1) >= 0 ? (t - (L - 1) + up - 1) / up : -((L - 1 - t) / up);
            double acc = 0.0;
            for (int64_t i = lo; i <= hi; i++)
                acc += (double)xc[i - x_first] * h[t - i * up];
            oc[j] = (float)acc;
        }
    }
    Py_END_ALLOW_THREADS
    release(&bs);
    Py_RETURN_NONE;
fail:
    release(&bs);
    return NULL;
}

static PyMethodDef methods[] = {
    {"mix64", k_mix64, METH_VARARGS, "mix64(x) -> int: the splitmix64 finaliser of a uint64."},
    {"sine_from_anchors", k_sine_from_anchors, METH_VARARGS,
     "sine_from_anchors(out, sin_a, cos_a, cos_t, sin_t, offset, amp)"},
    {"pink_noise", k_pink_noise, METH_VARARGS,
     "pink_noise(key or (key0, key1), start, out, state[, scale])"},
    {"colored_noise", k_colored_noise, METH_VARARGS,
     "colored_noise(key, start, out, gaussian, poles, gains, direct, delayed, diff, state)"},
    {"mul_add", k_mul_add, METH_VARARGS, "mul_add(out, x, g): out += x * g (g a float or a row)"},
    {"curve_eval", k_curve_eval, METH_VARARGS, "curve_eval(t, tp, vp, kinds, a0, r, e, out)"},
    {"curve_integral", k_curve_integral, METH_VARARGS,
     "curve_integral(t, tp, vp, kinds, a0, r, e, cum, base0, out)"},
    {"curve_block", k_curve_block, METH_VARARGS,
     "curve_block(start, sr, tp, vp, kinds, a0, r, e, out)"},
    {"biquad_design", k_biquad_design, METH_VARARGS,
     "biquad_design(kind, order, sr, f, q, gain_db, out)"},
    {"biquad_run", k_biquad_run, METH_VARARGS,
     "biquad_run(x, coefs, seg_starts, zi, abs_start, grid[, out])"},
    {"table_lookup", k_table_lookup, METH_VARARGS, "table_lookup(phase, freq, tables, nyq, out)"},
    {"bank", k_bank, METH_VARARGS,
     "bank(out, sin_a, cos_a, cos_t, sin_t, offset, src, rows, scale, shift)"},
    {"bank_grid", k_bank_grid, METH_VARARGS,
     "bank_grid(out, sin_a, cos_a, cos_t, sin_t, offset, lv, first, g, start, rows, scale, "
     "shift)"},
    {"pair_phase_angles", k_pair_phase_angles, METH_VARARGS,
     "pair_phase_angles(start, sr, common, diff, out)"},
    {"grid_interp", k_grid_interp, METH_VARARGS, "grid_interp(lv, first, start, g, out)"},
    {"kweight_sums", k_kweight_sums, METH_VARARGS,
     "kweight_sums(x, co, zi, cuts, sums, hop_left, hop, hop_peaks) -> peak"},
    {"screened_tp", k_screened_tp, METH_VARARGS,
     "screened_tp(buf, h, lo, hi, thr, tp, peak[, reach]) -> (tp, peak)"},
    {"hop_tp", k_hop_tp, METH_VARARGS, "hop_tp(x, h, x_first, hops, hop, total, out[, thr[, round32]])"},
    {"resample", k_resample, METH_VARARGS,
     "resample(x, h, up, down, half, x_first, m0, out): polyphase FIR resampling"},
    {"beat_dp", k_beat_dp, METH_VARARGS, "beat_dp(score, period, tightness, cum, back[, first])"},
    {"quantize", k_quantize, METH_VARARGS,
     "quantize(block, start, seed, full_scale, dither, out[, gain]) -> (clipped, peak)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_kernels",
    "resonator's compiled kernels (see resonator.kernels).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__kernels(void) {
    PyObject *m = PyModule_Create(&module);
#ifdef RESONATOR_KERNELS_SOURCE
    /* the SHA-256 of the _kernels.c this was built from (setup.py): resonator.kernels
       refuses a build older than the source beside it (a stale editable install) */
    if (m && PyModule_AddStringConstant(m, "SOURCE_SHA256", RESONATOR_KERNELS_SOURCE) < 0) {
        Py_DECREF(m);
        return NULL;
    }
#endif
    return m;
}
