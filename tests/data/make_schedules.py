"""Reference learning rates for the schedules (train/schedule.hpp), from
torch.optim.lr_scheduler stepped once per round (epoch), as in PyTorch's
usual loop: round r trains with the rate read before the r-th
scheduler.step().

A case: {"name", "kind": "Step"|"Cosine", "rate", and "step_size", "gamma"
(Step) or "total_rounds", "minimum_rate" (Cosine), "rates": [rate per round]}."""
import warnings

import torch

from reference_util import write


def rates(make_scheduler, rate, rounds):
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=rate)
    scheduler = make_scheduler(opt)
    out = []
    for _ in range(rounds):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    return out


def step_case(name, rate, step_size, gamma, rounds):
    return {"name": name, "kind": "Step", "rate": rate, "step_size": step_size, "gamma": gamma,
            "rates": rates(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size, gamma), rate,
                           rounds)}


def cosine_case(name, rate, total_rounds, minimum_rate, rounds):
    return {"name": name, "kind": "Cosine", "rate": rate, "total_rounds": total_rounds,
            "minimum_rate": minimum_rate,
            "rates": rates(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(
                o, T_max=total_rounds, eta_min=minimum_rate), rate, rounds)}


warnings.simplefilter("ignore")
cases = [
    step_case("step", 0.1, 3, 0.5, 12),
    step_case("step_every_round", 0.05, 1, 0.9, 8),
    step_case("step_longer_than_training", 1.0, 20, 0.1, 6),
    # Beyond total_rounds PyTorch's cosine rises again (it is periodic).
    cosine_case("cosine", 0.1, 10, 0.0, 24),
    cosine_case("cosine_minimum", 0.01, 7, 1e-4, 16),
    cosine_case("cosine_one_round", 0.3, 1, 0.0, 4),
]
write("schedules.json", "Schedule", cases)
