#!/usr/bin/env python3
"""Recomputes the expected numbers in tests/scoring/*_test.cc with CPython (no numpy or
sklearn needed): lm-eval's bootstrap_stderr / mean_stderr written out from the documented
formulas, with Python >= 3.12's compensated sum() so that any 3.x interpreter agrees."""
import math
import random


def nsum(xs):  # CPython 3.12+ sum() of floats (Neumaier)
    s = 0.0
    c = 0.0
    for x in xs:
        t = s + x
        c += (s - t) + x if abs(s) >= abs(x) else (x - t) + s
        s = t
    return s + c if c and math.isfinite(c) else s


def mean(xs):
    return nsum(xs) / len(xs)


def sample_stddev(xs):
    mu = mean(xs)
    return math.sqrt(nsum([(x - mu) ** 2 for x in xs]) / (len(xs) - 1))


def bootstrap_stderr(f, xs, iters):
    res = []
    chunk = min(1000, iters)
    for i in range(iters // chunk):
        rnd = random.Random(i)
        for _ in range(chunk):
            res.append(f(rnd.choices(xs, k=len(xs))))
    return sample_stddev(res)


def perplexity(xs):
    return math.exp(-mean(xs))


def median(xs):
    return xs[len(xs) // 2]


def f1(items):
    tp = sum(1 for g, p in items if g == 1 and p == 1)
    fp = sum(1 for g, p in items if g != 1 and p == 1)
    fn = sum(1 for g, p in items if g == 1 and p != 1)
    return 0.0 if 2 * tp + fp + fn == 0 else 2 * tp / (2 * tp + fp + fn)


def mcc(items):
    labels = sorted({x for pair in items for x in pair})
    n = float(len(items))
    t = [float(sum(1 for g, _ in items if g == l)) for l in labels]
    p = [float(sum(1 for _, q in items if q == l)) for l in labels]
    correct = float(sum(1 for g, q in items if g == q))
    cov_ytyp = correct * n - sum(a * b for a, b in zip(t, p))
    cov_ypyp = n * n - sum(b * b for b in p)
    cov_ytyt = n * n - sum(a * a for a in t)
    if cov_ypyp * cov_ytyt == 0:
        return 0.0
    return cov_ytyp / math.sqrt(cov_ytyt * cov_ypyp)


LLS = [-1.25, -0.5, -3.0, -2.0, -0.75, -1.5, -4.25]
ACC = [1.0, 0.0, 1.0, 1.0, 0.0]
PAIRS = [(1, 1), (0, 1), (1, 0), (0, 0), (1, 1), (0, 0), (1, 1), (0, 1)]

print("mean_stderr(ACC)", repr(sample_stddev(ACC) / math.sqrt(len(ACC))))
print("perplexity(LLS)", repr(perplexity(LLS)))
print("perplexity stderr 2000", repr(bootstrap_stderr(perplexity, LLS, 2000)))
print("median(LLS)", repr(median(LLS)))
print("median stderr 1000", repr(bootstrap_stderr(median, LLS, 1000)))
print("f1(PAIRS)", repr(f1(PAIRS)), "stderr 1000", repr(bootstrap_stderr(f1, PAIRS, 1000)))
print("mcc(PAIRS)", repr(mcc(PAIRS)), "stderr 1000", repr(bootstrap_stderr(mcc, PAIRS, 1000)))
print("mcc 3-class", repr(mcc([(0, 0), (1, 2), (2, 2), (1, 1), (0, 1), (2, 0)])))
print("bleu (1/12)^(1/4)", repr(math.exp(nsum([math.log(100 * 5 / 6), math.log(100 * 3 / 5),
                                                math.log(100 * 2 / 4), math.log(100 * 1 / 3)]) / 4)))
print("bleu smoothed", repr(math.exp(nsum([math.log(50.0), math.log(100.0 * 1 / 3),
                                           math.log(25.0), math.log(25.0)]) / 4)))


def numpy_pairwise(a):  # numpy's pairwise_sum for float64, as add.reduce uses it
    n = len(a)
    if n < 8:
        res = 0.0
        for x in a:
            res += x
        return res
    if n <= 128:
        r = list(a[:8])
        i = 8
        while i < n - (n % 8):
            for j in range(8):
                r[j] += a[i + j]
            i += 8
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        for x in a[i:]:
            res += x
        return res
    n2 = n // 2
    n2 -= n2 % 8
    return numpy_pairwise(a[:n2]) + numpy_pairwise(a[n2:])


XS = [1.0] * 7 + [1e16, -1e16, 1.0]
naive = 0.0
for x in XS:
    naive += x
print("sums: naive", naive, "numpy", numpy_pairwise(XS), "py3.12", nsum(XS))
