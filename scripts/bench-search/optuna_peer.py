"""Optuna's TPESampler on bench-search's objectives, for comparison.

Run by bench-search (main.go) as: optuna_peer.py TRIALS SEEDS IN_FLIGHT FIRST_SEED.
Prints a JSON object: function name -> the best (noise-free) value of
each seed's study. Trials are asked for with IN_FLIGHT of them running
and told oldest first, as bench-search does for tune.
"""
import json
import math
import sys

import optuna
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution


def noise(seed, index, sd):
    s = math.sin(seed * 12.9898 + index * 78.233) * 43758.5453
    u = s - math.floor(s)
    return (u - 0.5) * math.sqrt(12) * sd


def branin(p):
    x0, x1 = p["x0"], p["x1"]
    b, c, t = 5.1 / (4 * math.pi ** 2), 5 / math.pi, 1 / (8 * math.pi)
    v = (x1 - b * x0 * x0 + c * x0 - 6) ** 2 + 10 * (1 - t) * math.cos(x0) + 10
    return v, v


def rosenbrock(p):
    x = [p["x%d" % i] for i in range(4)]
    v = sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(3))
    return v, v


def ackley(p):
    x = [p["x%d" % i] for i in range(5)]
    n = len(x)
    sq = sum(v * v for v in x)
    cs = sum(math.cos(2 * math.pi * v) for v in x)
    v = -20 * math.exp(-0.2 * math.sqrt(sq / n)) - math.exp(cs / n) + 20 + math.e
    return v, v


def box(n, lo, hi):
    return {"x%d" % i: FloatDistribution(lo, hi) for i in range(n)}


OBJECTIVES = [
    ("branin", {"x0": FloatDistribution(-5, 10), "x1": FloatDistribution(0, 15)}, branin),
    ("rosenbrock-4", box(4, -5, 10), rosenbrock),
    ("ackley-5", box(5, -32.768, 32.768), ackley),
    ("noisy-mixed", {
        "lr": FloatDistribution(1e-6, 1, log=True),
        "layers": IntDistribution(1, 16),
        "opt": CategoricalDistribution(["sgd", "adam", "rmsprop"]),
        "dropout": FloatDistribution(0, 1),
    }, None),
]


def mixed(seed, index, p):
    truth = (math.log10(p["lr"]) + 3) ** 2 + (p["layers"] - 6) ** 2 / 8 + (p["dropout"] - 0.2) ** 2 * 4
    if p["opt"] != "adam":
        truth += 1
    return truth + noise(seed, index, 0.5), truth


def study(name, space, fn, seed, trials, in_flight):
    s = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed), direction="minimize")
    running = []
    best, best_truth = math.inf, math.inf
    nxt = 0
    while nxt < trials or running:
        while nxt < trials and len(running) < in_flight:
            running.append((nxt, s.ask(space)))
            nxt += 1
        index, trial = running.pop(0)
        if fn is None:
            value, truth = mixed(seed, index, trial.params)
        else:
            value, truth = fn(trial.params)
        s.tell(trial, value)
        if value < best:
            best, best_truth = value, truth
    return best_truth


def main():
    trials, seeds, in_flight, first_seed = (int(a) for a in sys.argv[1:5])
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    out = {}
    for name, space, fn in OBJECTIVES:
        out[name] = [study(name, space, fn, seed, trials, in_flight) for seed in range(first_seed, first_seed + seeds)]
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
