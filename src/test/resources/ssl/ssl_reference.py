#!/usr/bin/env python3
"""Independent float64 reference losses for org.umm4j.ssl (numpy only, written from the papers' formulas).

Run:  python3 ssl_reference.py > ssl-reference.json
Every case stores its inputs (views, targets, extras), the hyper-parameters (registry keys of
org.umm4j.ssl.Objectives) and the expected loss; the Java tests load the inputs from the JSON and compare the
loss to 1e-9 relative. Arrays are nested lists in C order.
"""
import json
import numpy as np

rng = np.random.default_rng(20240817)


def normalize(z):
    return z / np.linalg.norm(z, axis=1, keepdims=True)


def logsumexp(x, axis):
    m = np.max(x, axis=axis, keepdims=True)
    return (m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))).squeeze(axis)


def ntxent(z1, z2, t):
    z = normalize(np.vstack([z1, z2]))
    m = len(z)
    n = m // 2
    s = z @ z.T / t
    total = 0.0
    for i in range(m):
        others = [k for k in range(m) if k != i]
        total += -s[i, (i + n) % m] + np.log(np.sum(np.exp(s[i, others])))
    return total / m


def cos_rows(a, b):
    return np.sum(normalize(a) * normalize(b), axis=1)


def byol(p1, p2, t1, t2):
    return np.mean(2 - 2 * cos_rows(p1, t2)) + np.mean(2 - 2 * cos_rows(p2, t1))


def simsiam(p1, p2, z1, z2):
    return -0.5 * np.mean(cos_rows(p1, z2)) - 0.5 * np.mean(cos_rows(p2, z1))


def barlow(z1, z2, lam, scale, eps):
    def bn(z):
        return (z - z.mean(0)) / np.sqrt(z.var(0) + eps)  # np.var: biased (ddof=0)
    c = bn(z1).T @ bn(z2) / len(z1)
    d = np.diag(c)
    return scale * (np.sum((1 - d) ** 2) + lam * (np.sum(c ** 2) - np.sum(d ** 2)))


def vicreg(a, b, lam=25.0, mu=25.0, nu=1.0):
    inv = np.mean((a - b) ** 2)

    def var(z):
        std = np.sqrt(z.var(0, ddof=1) + 1e-4)
        return np.mean(np.maximum(0.0, 1.0 - std))

    def cov(z):
        c = np.cov(z, rowvar=False)
        return (np.sum(c ** 2) - np.sum(np.diag(c) ** 2)) / z.shape[1]

    return lam * inv + mu * (var(a) + var(b)) + nu * (cov(a) + cov(b))


def vicregl(z1, z2, y1, y2, c1, c2, alpha, gamma, lam, mu, nu):
    def locs(y):  # [N, C, H, W] -> [N, L, C]
        return y.transpose(0, 2, 3, 1).reshape(y.shape[0], -1, y.shape[1])
    f1, f2 = locs(y1), locs(y2)

    def match(fa, fb, dist):
        rows_a, rows_b = [], []
        for n in range(fa.shape[0]):
            nn = np.argmin(dist[n], axis=1)
            best = dist[n][np.arange(dist.shape[1]), nn]
            keep = np.argsort(best, kind="stable")[:gamma]
            rows_a.extend(fa[n, keep])
            rows_b.extend(fb[n, nn[keep]])
        return vicreg(np.array(rows_a), np.array(rows_b), lam, mu, nu)

    def loc_dist(ca, cb):
        return np.sum((ca[:, :, None, :] - cb[:, None, :, :]) ** 2, axis=-1)

    def feat_dist(fa, fb):
        return np.sum((fa[:, :, None, :] - fb[:, None, :, :]) ** 2, axis=-1)

    spatial = 0.5 * (match(f1, f2, loc_dist(c1, c2)) + match(f2, f1, loc_dist(c2, c1)))
    distance = 0.5 * (match(f1, f2, feat_dist(f1, f2)) + match(f2, f1, feat_dist(f2, f1)))
    return alpha * vicreg(z1, z2, lam, mu, nu) + (1 - alpha) * (spatial + distance)


def mocov2(qs, ks, queue, t):
    total = 0.0
    for q, k in zip(qs, ks):
        qn, kn = normalize(q), normalize(k)
        logits = np.hstack([np.sum(qn * kn, axis=1)[:, None], qn @ queue.T]) / t
        total += np.mean(logsumexp(logits, 1) - logits[:, 0])
    return total / len(qs)


def wmse(views, w, eps):
    n, d = views[0].shape

    def whiten(x):
        xc = x - x.mean(0)
        s = (1 - eps) * xc.T @ xc / (len(x) - 1) + eps * np.eye(d)
        low = np.linalg.cholesky(s)
        return np.linalg.solve(low, xc.T).T  # xc L^{-T}
    zs = [np.vstack([whiten(v[b:b + w]) for b in range(0, n, w)]) for v in views]
    pairs = [(i, j) for i in range(len(zs)) for j in range(i + 1, len(zs))]
    return sum(np.mean(2 - 2 * cos_rows(zs[i], zs[j])) for i, j in pairs) / len(pairs)


def sinkhorn(scores, eps, iters):
    q = np.exp(scores / eps).T  # [K, N]
    q /= q.sum()
    k, n = q.shape
    for _ in range(iters):
        q /= q.sum(axis=1, keepdims=True)
        q /= k
        q /= q.sum(axis=0, keepdims=True)
        q /= n
    return (q * n).T


def swav(views, protos, t, eps, iters, assign):
    s = [normalize(z) @ protos for z in views]
    total = 0.0
    for i in range(assign):
        q = sinkhorn(s[i], eps, iters)
        for v in range(len(views)):
            if v != i:
                logp = s[v] / t - logsumexp(s[v] / t, 1)[:, None]
                total -= np.mean(np.sum(q * logp, axis=1))
    return total / (assign * (len(views) - 1))


def kl(m1, l1, m2, l2):
    return 0.5 * np.sum(l2 - l1 + (np.exp(l1) + (m1 - m2) ** 2) / np.exp(l2) - 1) / len(m1)


def superinfo(mu1, mu2, lv1, lv2, t, la, lb, e1=None, e2=None):
    s1, s2 = mu1, mu2
    if e1 is not None:
        s1 = mu1 + np.exp(lv1 / 2) * e1
        s2 = mu2 + np.exp(lv2 / 2) * e2
    return ntxent(s1, s2, t) + la * kl(mu1, lv1, mu2, lv2) + lb * kl(mu2, lv2, mu1, lv1)


def g(*shape):
    return rng.standard_normal(shape)


cases = []


def add(name, objective, params, loss, views, targets=(), extras=None):
    cases.append({"name": name, "objective": objective, "params": params, "loss": float(loss),
                  "views": [v.tolist() for v in views], "targets": [t.tolist() for t in targets],
                  "extras": {k: v.tolist() for k, v in (extras or {}).items()}})


N, D = 6, 5
z1, z2 = g(N, D), g(N, D)
add("simclr-default", "simclr", {}, ntxent(z1, z2, 0.5), [z1, z2])
z1, z2 = g(N, D), g(N, D)
add("simclr-t0.2", "simclr", {"temperature": 0.2}, ntxent(z1, z2, 0.2), [z1, z2])
p1, p2, t1, t2 = g(N, D), g(N, D), g(N, D), g(N, D)
add("byol", "byol", {}, byol(p1, p2, t1, t2), [p1, p2], [t1, t2])
p1, p2, t1, t2 = g(N, D), g(N, D), g(N, D), g(N, D)
add("simsiam", "simsiam", {}, simsiam(p1, p2, t1, t2), [p1, p2], [t1, t2])
z1 = g(N, D)
z2 = z1 + 0.5 * g(N, D)
add("barlow-default", "barlow", {}, barlow(z1, z2, 5e-3, 1.0, 1e-5), [z1, z2])
add("barlow-scaled", "barlow", {"lambda": 0.02, "scale": 0.1, "eps": 0.0}, barlow(z1, z2, 0.02, 0.1, 0.0), [z1, z2])
z1, z2 = 0.5 * g(N, D), 0.5 * g(N, D)  # small spread so some variance hinges are active
add("vicreg", "vicreg", {}, vicreg(z1, z2), [z1, z2])
add("vicreg-weights", "vicreg", {"invariance": 1.0, "variance": 2.0, "covariance": 3.0},
    vicreg(z1, z2, 1.0, 2.0, 3.0), [z1, z2])
z1, z2 = 0.7 * g(N, D), 0.7 * g(N, D)
y1, y2 = 0.6 * g(N, 3, 2, 3), 0.6 * g(N, 3, 2, 3)
c1, c2 = rng.uniform(0, 32, (N, 6, 2)), rng.uniform(0, 32, (N, 6, 2))
add("vicregl", "vicregl", {"alpha": 0.75, "gamma": 3.0},
    vicregl(z1, z2, y1, y2, c1, c2, 0.75, 3, 25.0, 25.0, 1.0), [z1, z2, y1, y2], (),
    {"coords1": c1, "coords2": c2})
q1, q2, k1, k2 = g(N, D), g(N, D), g(N, D), g(N, D)
queue = normalize(g(7, D))
add("mocov2", "mocov2", {}, mocov2([q1, q2], [k1, k2], queue, 0.2), [q1, q2], [k1, k2], {"queue": queue})
v1, v2, v3 = g(8, 3), g(8, 3), g(8, 3)
add("wmse", "wmse", {"subBatchSize": 4.0}, wmse([v1, v2], 4, 0.0), [v1, v2])
add("wmse-3views-eps", "wmse", {"subBatchSize": 4.0, "eps": 0.1}, wmse([v1, v2, v3], 4, 0.1), [v1, v2, v3])
w1, w2, w3 = g(N, D), g(N, D), g(N, D)
protos = g(D, 4)
protos /= np.linalg.norm(protos, axis=0, keepdims=True)
add("swav-multicrop", "swav", {}, swav([w1, w2, w3], protos, 0.1, 0.05, 3, 2), [w1, w2, w3], (),
    {"prototypes": protos})
mu1, mu2, lv1, lv2 = g(N, D), g(N, D), 0.3 * g(N, D), 0.3 * g(N, D)
add("superinfo", "superinfo", {"la": 0.1, "lb": 0.2},
    superinfo(mu1, mu2, lv1, lv2, 0.5, 0.1, 0.2), [mu1, mu2, lv1, lv2])
e1, e2 = g(N, D), g(N, D)
add("superinfo-noise", "superinfo", {},
    superinfo(mu1, mu2, lv1, lv2, 0.5, 0.01, 0.01, e1, e2), [mu1, mu2, lv1, lv2], (), {"noise1": e1, "noise2": e2})

print(json.dumps({"doc": "python3 ssl_reference.py > ssl-reference.json (numpy " + np.__version__ + ", seed 20240817)",
                  "cases": cases}, indent=1))
