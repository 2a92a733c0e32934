# Independent float64 reference for FeatureRatesTest (numpy only): dR of L2-normalised rows under the label,
# dense instance and top-k instance memberships, eps 0.5, tau 0.5. Run: python3 feature_rates_reference.py
import numpy as np

Z = np.array([[1.0, 0.2, -0.5, 0.3], [0.9, 0.1, -0.4, 0.0], [-0.2, 1.1, 0.3, 0.5], [0.0, 0.8, 0.4, 0.7],
              [0.5, -0.6, 1.2, 0.1], [0.4, -0.5, 0.9, -0.2], [1.3, 0.0, 0.0, 0.9], [-0.7, 0.3, -0.2, 1.0]])
labels = [0, 0, 1, 1, 2, 2, 0, 1]
eps, tau, k = 0.5, 0.5, 3

def R(Z):
    m, d = Z.shape
    return 0.5 * np.linalg.slogdet(np.eye(d) + d / (m * eps**2) * Z.T @ Z)[1]

def Rc(Z, P):
    m, d = Z.shape
    out = 0.0
    for j in range(P.shape[1]):
        t = P[:, j].sum()
        if t > 0:
            out += t / (2 * m) * np.linalg.slogdet(np.eye(d) + d / (t * eps**2) * Z.T @ np.diag(P[:, j]) @ Z)[1]
    return out

Zn = Z / np.linalg.norm(Z, axis=1, keepdims=True)
m = len(Zn)
Pl = np.zeros((m, 3)); Pl[np.arange(m), labels] = 1
C = Zn @ Zn.T / tau
Pi = np.exp(C - C.max(axis=1, keepdims=True)); np.fill_diagonal(Pi, 0); Pi /= Pi.sum(axis=1, keepdims=True)
Pk = np.zeros((m, m))
for i in range(m):
    c = Zn @ Zn[i]; c[i] = -np.inf
    nn = sorted(range(m), key=lambda j: (-c[j], j))[:k]
    w = np.exp(c[nn] / tau); Pk[i, nn] = w / w.sum()
print("label", repr(R(Zn) - Rc(Zn, Pl)))
print("instance", repr(R(Zn) - Rc(Zn, Pi)))
print("topk", repr(R(Zn) - Rc(Zn, Pk)))
