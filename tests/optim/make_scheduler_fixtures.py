#!/usr/bin/python3
"""Reference sequences for tests/optim from PyTorch: learning rates of the schedulers
(test_schedulers.cpp) and L-BFGS iterates (test_lbfgs.cpp).

Run with Debian's PyTorch (python3-torch, 1.13):  /usr/bin/python3 make_scheduler_fixtures.py
It rewrites fixtures/lbfgs.json (see lbfgs_cases) and fixtures/schedulers.json: one entry per case with the scheduler's arguments, the
optimizer's initial learning rates, and `lrs` = get_last_lr() after construction and after
each step(). OneCycleLR cases also record each group's momentum (SGD) after each step.
"""
import json
import os

import torch

STEPS = 25


def make_sgd(lrs, momentum=0.0):
    groups = [{"params": [torch.zeros(1, requires_grad=True)], "lr": lr} for lr in lrs]
    return torch.optim.SGD(groups, lr=lrs[0], momentum=momentum)


def run(case, optimizer, scheduler, steps=STEPS, metrics=None):
    lrs = [list(scheduler.get_last_lr()) if metrics is None else [g["lr"] for g in optimizer.param_groups]]
    momenta = [[g["momentum"] for g in optimizer.param_groups]]
    for i in range(steps):
        optimizer.step()
        if metrics is None:
            scheduler.step()
        else:
            scheduler.step(metrics[i])
        lrs.append([g["lr"] for g in optimizer.param_groups])
        momenta.append([g["momentum"] for g in optimizer.param_groups])
    case["lrs"] = lrs
    if case["type"] == "OneCycleLR":
        case["momenta"] = momenta
    return case


def rosenbrock(p):
    return (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2


def beale(p):
    x, y = p[0], p[1]
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2 + (2.625 - x + x * y ** 3) ** 2


def himmelblau(p):
    x, y = p[0], p[1]
    return (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2


def quadratic(p):
    # f(θ) = ½θᵀAθ − bᵀθ, the same A and b as tests/optim/helpers.hpp
    A = torch.tensor([[3.0, 0.5], [0.5, 1.0]], dtype=torch.float64)
    b = torch.tensor([1.0, -2.0], dtype=torch.float64)
    return 0.5 * p @ (A @ p) - b @ p


def lbfgs_cases():
    """Iterates (float64) after each step(closure), with the counters PyTorch keeps."""
    cases = {}
    setups = [("rosenbrock_strong_wolfe", rosenbrock, [-1.5, 2.0], dict(line_search_fn="strong_wolfe"), 4),
              ("rosenbrock_strong_wolfe_history3", rosenbrock, [-1.5, 2.0],
               dict(line_search_fn="strong_wolfe", history_size=3, max_iter=7), 6),
              # lr 3 from here makes the zoom phase move a trial away from a bracket end
              # (its "insufficient progress" safeguard)
              ("beale_strong_wolfe_zoom_safeguard", beale, [0.5, 2.0],
               dict(line_search_fn="strong_wolfe", lr=3.0, max_iter=10), 3),
              # from here a zoom step turns the bracket round (the new point's slope points
              # away from the old high end)
              ("himmelblau_strong_wolfe_bracket_flip", himmelblau, [-2.0, 1.5],
               dict(line_search_fn="strong_wolfe", max_iter=10), 3),
              ("quadratic_fixed_step", quadratic, [0.5, -1.5], dict(lr=0.2, max_iter=4), 4)]
    for name, f, start, args, steps in setups:
        p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
        opt = torch.optim.LBFGS([p], **args)

        def closure():
            opt.zero_grad()
            loss = f(p)
            loss.backward()
            return loss
        iterates, evals, iters = [], [], []
        for _ in range(steps):
            opt.step(closure)
            iterates.append(p.detach().tolist())
            evals.append(opt.state[p]["func_evals"])
            iters.append(opt.state[p]["n_iter"])
        cases[name] = dict(function=f.__name__, start=start, options=args, iterates=iterates,
                           func_evals=evals, n_iter=iters)
    return cases


def main():
    S = torch.optim.lr_scheduler
    two = [0.1, 0.02]
    cases = {}

    # COURSE.md worked example 10: α = α0 / (1 + decay·epoch), α0 = 0.1, decay 1.
    o = make_sgd([0.1])
    cases["course_example_10"] = run({"type": "LambdaLR", "lr": [0.1], "formula": "1/(1+epoch)"}, o,
                                     S.LambdaLR(o, lambda e: 1.0 / (1 + e)), steps=3)
    o = make_sgd(two)
    cases["lambda_warmup_decay"] = run({"type": "LambdaLR", "lr": two, "formula": "min(1,(epoch+1)/5)*0.9^epoch"}, o,
                                       S.LambdaLR(o, lambda e: min(1.0, (e + 1) / 5) * 0.9 ** e))
    o = make_sgd(two)
    cases["step"] = run({"type": "StepLR", "lr": two, "step_size": 3, "gamma": 0.5}, o, S.StepLR(o, 3, 0.5))
    o = make_sgd(two)
    cases["multistep"] = run({"type": "MultiStepLR", "lr": two, "milestones": [2, 5, 5, 11], "gamma": 0.1}, o,
                             S.MultiStepLR(o, [2, 5, 5, 11], 0.1))
    o = make_sgd(two)
    cases["exponential"] = run({"type": "ExponentialLR", "lr": two, "gamma": 0.9}, o, S.ExponentialLR(o, 0.9))
    o = make_sgd(two)
    cases["cosine"] = run({"type": "CosineAnnealingLR", "lr": two, "T_max": 6, "eta_min": 0.001}, o,
                          S.CosineAnnealingLR(o, 6, 0.001))
    o = make_sgd(two)
    cases["linear_warmup"] = run({"type": "LinearLR", "lr": two, "start_factor": 0.25, "end_factor": 1.0,
                                  "total_iters": 4}, o, S.LinearLR(o, 0.25, 1.0, 4))
    o = make_sgd(two)
    cases["linear_decay"] = run({"type": "LinearLR", "lr": two, "start_factor": 1.0, "end_factor": 0.1,
                                 "total_iters": 7}, o, S.LinearLR(o, 1.0, 0.1, 7))
    for name, strategy, three in [("onecycle_cos", "cos", False), ("onecycle_linear", "linear", False),
                                  ("onecycle_three_phase", "cos", True)]:
        o = make_sgd(two, momentum=0.9)
        args = {"max_lr": 1.0, "total_steps": 20, "pct_start": 0.25, "anneal_strategy": strategy,
                "three_phase": three, "div_factor": 10.0, "final_div_factor": 100.0}
        cases[name] = run(dict(type="OneCycleLR", lr=two, **args), o, S.OneCycleLR(o, **args), steps=19)

    metrics = [5, 4, 4.5, 4.2, 4.1, 4.0, 3.9999, 4.3, 4.4, 4.5, 2, 2.1, 2.2, 2.3, 2.4, 2.5, 1, 1, 1, 1]
    o = make_sgd(two)
    args = {"mode": "min", "factor": 0.5, "patience": 2, "threshold": 1e-3, "threshold_mode": "rel",
            "cooldown": 1, "min_lr": 0.004}
    cases["plateau_min_rel"] = run(dict(type="ReduceLROnPlateau", lr=two, metrics=metrics, **args), o,
                                   S.ReduceLROnPlateau(o, **args), steps=len(metrics), metrics=metrics)
    o = make_sgd(two)
    args = {"mode": "max", "factor": 0.1, "patience": 1, "threshold": 0.05, "threshold_mode": "abs",
            "cooldown": 0, "min_lr": 0.0}
    cases["plateau_max_abs"] = run(dict(type="ReduceLROnPlateau", lr=two, metrics=metrics, **args), o,
                                   S.ReduceLROnPlateau(o, **args), steps=len(metrics), metrics=metrics)

    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "schedulers.json")
    with open(out, "w") as f:
        json.dump({"generator": "tests/optim/make_scheduler_fixtures.py", "torch": torch.__version__,
                   "cases": cases}, f, indent=1)
        f.write("\n")
    print("wrote", out, len(cases), "cases")
    out = os.path.join(os.path.dirname(out), "lbfgs.json")
    with open(out, "w") as f:
        json.dump({"generator": "tests/optim/make_scheduler_fixtures.py", "torch": torch.__version__,
                   "cases": lbfgs_cases()}, f, indent=1)
        f.write("\n")
    print("wrote", out)


if __name__ == "__main__":
    main()
