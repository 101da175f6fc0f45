"""Linear probes: how well a latent is linearly decodable from a site's activations.

Logistic probe: multinomial logistic regression with an L2 penalty, fit by L-BFGS on a
seeded split; returns held-out accuracy. Ridge probe: closed-form ridge regression;
returns held-out R^2 = 1 - SS_res / SS_tot. Features are standardized on the train part.
Both are deterministic for a given seed.
"""

from __future__ import annotations

import torch


def _split(n: int, test_fraction: float, seed: int, *, min_train: int = 2,
           what: str = "a probe") -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded (train, test) split of n examples: held-out scores for probes and tuned lenses alike."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError("test_fraction must be in (0, 1)")
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_test = max(1, int(round(n * test_fraction)))
    if n - n_test < min_train:
        raise ValueError(f"too few examples ({n}) for {what}")
    return perm[n_test:], perm[:n_test]


def _standardize(train: torch.Tensor, test: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    mu = train.mean(0, keepdim=True)
    sd = train.std(0, keepdim=True).clamp_min(1e-6)
    return (train - mu) / sd, (test - mu) / sd


def logistic_probe(
    acts: torch.Tensor, labels: torch.Tensor, *, test_fraction: float = 0.3, l2: float = 1e-3,
    seed: int = 0, max_iter: int = 200,
) -> float:
    """Held-out accuracy of a logistic-regression probe from `acts` (n, ...) to integer `labels` (n,)."""
    x = acts.detach().reshape(acts.shape[0], -1).double()
    y = labels.detach().long().reshape(-1).to(x.device)
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"{x.shape[0]} activations but {y.shape[0]} labels")
    tr, te = _split(x.shape[0], test_fraction, seed)
    xtr, xte = _standardize(x[tr], x[te])
    classes = int(y.max()) + 1
    w = torch.zeros(x.shape[1], classes, dtype=torch.float64, device=x.device, requires_grad=True)
    b = torch.zeros(classes, dtype=torch.float64, device=x.device, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], lr=1.0, max_iter=max_iter, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(xtr @ w + b, y[tr]) + l2 * (w**2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        return float(((xte @ w + b).argmax(1) == y[te]).double().mean())


def ridge_probe(
    acts: torch.Tensor, targets: torch.Tensor, *, test_fraction: float = 0.3, alpha: float = 1e-2, seed: int = 0,
) -> float:
    """Held-out R^2 of a ridge regression from `acts` (n, ...) to real `targets` (n,) or (n, k)."""
    x = acts.detach().reshape(acts.shape[0], -1).double()
    t = targets.detach().double().reshape(targets.shape[0], -1).to(x.device)
    tr, te = _split(x.shape[0], test_fraction, seed)
    xtr, xte = _standardize(x[tr], x[te])
    mu = t[tr].mean(0, keepdim=True)
    eye = torch.eye(x.shape[1], dtype=torch.float64, device=x.device)
    w = torch.linalg.solve(xtr.T @ xtr + alpha * xtr.shape[0] * eye, xtr.T @ (t[tr] - mu))
    pred = xte @ w + mu
    ss_res = ((t[te] - pred) ** 2).sum()
    ss_tot = ((t[te] - t[te].mean(0, keepdim=True)) ** 2).sum().clamp_min(1e-12)
    return float(1.0 - ss_res / ss_tot)
