"""Optuna's pruners on the curves bench-schedulers wrote: the peer it
compares tune's schedulers with. Run by bench-schedulers; needs Debian's
python3-optuna. Prints, as JSON, per pruner the iterations used and the
best noise-free final loss of the trials that reached max_t, per seed.
"""
import json
import math
import sys

import optuna


def simulate(curves, max_t, concurrent, pruner):
    study = optuna.create_study(
        direction="minimize",
        pruner=pruner,
        sampler=optuna.samplers.RandomSampler(seed=0),
    )
    pending = list(range(len(curves)))
    pending.reverse()
    live = []
    iterations, best = 0, math.inf
    while pending or live:
        while len(live) < concurrent and pending:
            live.append([study.ask(), pending.pop(), 0])
        kept = []
        for trial, index, step in live:
            loss = curves[index]["reports"][step]
            step += 1
            iterations += 1
            trial.report(loss, step)
            if step == max_t:
                best = min(best, curves[index]["final"])
                study.tell(trial, loss)
                continue
            if trial.should_prune():
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                continue
            kept.append([trial, index, step])
        live = kept
    return {"iterations": iterations, "best": best}


def main():
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with open(sys.argv[1]) as f:
        data = json.load(f)
    max_t, concurrent = data["max_t"], data["concurrent"]
    pruners = {
        "optuna SuccessiveHalvingPruner (min 1, rf 4)": lambda: optuna.pruners.SuccessiveHalvingPruner(
            min_resource=1, reduction_factor=4, min_early_stopping_rate=0
        ),
        "optuna SuccessiveHalvingPruner (min 10, rf 2)": lambda: optuna.pruners.SuccessiveHalvingPruner(
            min_resource=10, reduction_factor=2, min_early_stopping_rate=0
        ),
        "optuna MedianPruner (warmup 10, startup 5)": lambda: optuna.pruners.MedianPruner(
            n_startup_trials=5, n_warmup_steps=10
        ),
    }
    out = {}
    for name, make in pruners.items():
        out[name] = [simulate(curves, max_t, concurrent, make()) for curves in data["sets"]]
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
