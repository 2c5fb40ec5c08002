"""The cost model of docs/distributed.md: predicted examples/s of synchronous
data-parallel training at p processes, per step

    T = b * t_example + T_update + T_allreduce,
    T_allreduce = 2 (p - 1) / p * bytes / bandwidth + 2 (p - 1) * latency,

with b examples per process (strata does not overlap the allreduce with
backward), T_update the optimizer's pass over the arrays (every process
applies it: 5 float streams of the parameters at memory bandwidth).

    python3 bench/mpi/cost_model.py
"""

NETS = {
    # name: (parameters, seconds per example per process, examples per process)
    "main job (digits net), 16 per process": (21_482, 47e-6, 16),
    "main job, global batch 16 (as trained)": (21_482, 47e-6, None),
    "ResNet-size (11M), 32 per process": (11_000_000, 55e-3, 32),
}
NETWORKS = {"10 Gb/s": (1.25e9, 10e-6), "100 Gb/s": (12.5e9, 2e-6)}  # bytes/s, latency
MEMORY = 10e9  # bytes/s for the optimizer update
PROCESSES = (1, 8, 64, 512)


def rate(params, t_example, per_process, p, bandwidth, latency):
    per_process = per_process if per_process else 16 / p
    if per_process < 1:
        return None  # fewer examples than processes
    size = 4 * (params + 5)
    allreduce = 0 if p == 1 else 2 * (p - 1) / p * size / bandwidth + 2 * (p - 1) * latency
    update = 5 * 4 * params / MEMORY
    step = per_process * t_example + update + allreduce
    return p * per_process / step, allreduce, step


for name, (params, t_example, per_process) in NETS.items():
    print(f"{name}: {4 * params / 1e6:.3g} MB of gradients, t_example {t_example * 1e3:g} ms")
    for network, (bandwidth, latency) in NETWORKS.items():
        cells = []
        for p in PROCESSES:
            r = rate(params, t_example, per_process, p, bandwidth, latency)
            cells.append("—" if r is None else f"{r[0]:,.0f} ({100 * r[1] / r[2]:.0f}%)")
        print(f"  {network}: " + " | ".join(f"p={p}: {c}" for p, c in zip(PROCESSES, cells)))
