#!/usr/bin/env python3
"""Side-by-side comparison of the CPU backend's training step with the numpy peer.

For each (d, k', B) three programs run one after the other, `--rounds` times, the order rotated
each round: our `bench-step --data fresh,fixed` (fresh samples and fixed data timed in
alternation within one process, A B, B A, ...) and the numpy peer's fresh and fixed steps. Each
reports the median steps/s of its timed repeats. A round's ratio against numpy compares runs
made in the same minute, so the machine's drift (10-30% here) cancels; our fresh / fixed ratio
compares repeats seconds apart, pair by pair, and the table gives the median and quartiles of
all pairs. A last table sets the GEMM-bound step (1024, 1024, 4096) against the machine's sgemm
peak: the faster of our 2048^3 sgemm and numpy's, each measured right after the step.

    python3 scripts/compare_numpy.py --peer ../shared/peers/numpy_step.py \
        --python /tmp/peer/bin/python --out results/timings/numpy-comparison.md
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

CONFIGS = [(64, 256, 4096), (256, 1024, 4096), (1024, 1024, 4096), (128, 4096, 8192)]
VARIANTS = [("fresh", "fresh"), ("fixed", "step")]  # (our --data name, the peer's --variant)


def steps_for(d, k, batch):
    """Steps per timed repeat: about 34 GFLOP of work (4·B·d·k' per step), ~0.2-2 s here."""
    return max(5, int(3.4e10 / (4 * batch * d * k)))


def bench_step_cmd(args, d, k, batch, repeats, *flags):
    """Our `bench-step` on the CPU backend, one JSON row per repeat."""
    return [args.bin, "bench-step", "--backend", "cpu", "--d", str(d), "--k", str(k), "--batch", str(batch),
            "--steps", str(steps_for(d, k, batch)), "--repeats", str(repeats), "--json", *flags]


def json_rows(cmd, env=None):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    if not rows:
        sys.exit(f"no JSON rows from {' '.join(cmd)}")
    return rows


def quartiles(xs):
    q = statistics.quantiles(xs, n=4, method="inclusive") if len(xs) > 1 else [xs[0]] * 3
    return q[0], q[2]


NUMPY_SGEMM = """
import sys, time, numpy as np
n = 2048
a = np.ones((n, n), np.float32); b = np.full((n, n), 0.5, np.float32); c = np.empty((n, n), np.float32)
np.matmul(a, b, out=c)
calls, start = 0, time.perf_counter()
while calls == 0 or time.perf_counter() - start < float(sys.argv[1]):
    np.matmul(a, b, out=c); calls += 1
print(2 * n**3 * calls / (time.perf_counter() - start) / 1e9)
"""


def peak_rows(args, peer_env):
    """The GEMM-bound step against the machine's sgemm peak, all measured in the same minute:
    our fixed-data step at (1024, 1024, 4096), the 2048^3 sgemm our backend ran right after it
    (`bench-step --vs-sgemm`), and numpy's (OpenBLAS) 2048^3 sgemm right after that."""
    d, k, batch = 1024, 1024, 4096
    rows = []
    for _ in range(args.rounds):
        out = subprocess.run(bench_step_cmd(args, d, k, batch, 1, "--data", "fixed", "--vs-sgemm"), check=True,
                             capture_output=True, text=True).stdout
        ours = json.loads(next(line for line in out.splitlines() if line.startswith("{")))
        numpy = float(subprocess.run([args.python, "-c", NUMPY_SGEMM, str(max(ours["seconds"], 0.5))], check=True,
                                     capture_output=True, text=True, env=peer_env).stdout)
        peak = max(ours["sgemm_2048_gflops"], numpy)
        rows.append((ours["gflops"], ours["sgemm_2048_gflops"], numpy, 100 * ours["gflops"] / peak))
    lines = ["", "## The GEMM-bound step against the machine's sgemm peak", "",
             "Fixed-data step at (1024, 1024, 4096), then a 2048³ sgemm through our product, then "
             "numpy's 2048³ matmul (OpenBLAS), each round in the same minute; peak = the faster sgemm.", "",
             "| round | step GFLOP/s | our sgemm GFLOP/s | numpy sgemm GFLOP/s | step % of peak |",
             "|---|---|---|---|---|"]
    lines += [f"| {i + 1} | {s:.1f} | {o:.1f} | {n:.1f} | {p:.1f}% |" for i, (s, o, n, p) in enumerate(rows)]
    lines.append(f"\nMedian step % of peak: **{statistics.median(r[3] for r in rows):.1f}%**.")
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--peer", required=True, help="path to numpy_step.py")
    ap.add_argument("--python", default=sys.executable, help="interpreter with numpy installed")
    ap.add_argument("--bin", default="target/release/clwe-bench")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", help="write the markdown table here (atomically) as well as stdout")
    args = ap.parse_args()
    if args.rounds < 1 or args.repeats < 1:
        sys.exit(f"--rounds {args.rounds} / --repeats {args.repeats}: both must be >= 1")

    # Some machines set these; they slow current numpy (the peer's README).
    peer_env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    lines = [
        "# CPU backend vs numpy peer: steps/s, side by side",
        "",
        "Each cell: ours / numpy steps/s per round (medians of "
        f"{args.repeats} timed repeats), then the ratios and their median. "
        "Command: `python3 scripts/compare_numpy.py` (see its docstring).",
        "",
        "| (d, k', B) | variant | ours steps/s | numpy steps/s | ratio per round | median ratio |",
        "|---|---|---|---|---|---|",
    ]
    meta = {}
    fresh_fixed = []
    fmt = lambda xs: ", ".join(f"{x:.2f}" for x in xs)
    for d, k, batch in CONFIGS:
        steps = steps_for(d, k, batch)
        # Three programs per round (ours, numpy fresh, numpy fixed), the order rotated each round,
        # so every ratio against numpy compares runs of the same minute.
        runs = [("ours", bench_step_cmd(args, d, k, batch, args.repeats, "--data", "fresh,fixed"), None)]
        for label, peer_variant in VARIANTS:
            runs.append((label, [args.python, args.peer, "--d", str(d), "--k", str(k), "--batch", str(batch),
                                 "--steps", str(steps), "--repeats", str(args.repeats), "--variant", peer_variant],
                         peer_env))
        measured = {(who, label): [] for who in ("ours", "numpy") for label, _ in VARIANTS}
        pairs, round_medians = [], []
        for r in range(args.rounds):
            for who, cmd, env in runs[r % len(runs):] + runs[:r % len(runs)]:
                rows = json_rows(cmd, env)
                meta.setdefault(cmd[0], rows[0])
                if who != "ours":
                    measured[("numpy", who)].append(statistics.median(x["steps_per_s"] for x in rows))
                    continue
                # Each variant's repeats in repeat order, so the i-th fresh and fixed ran together.
                by_variant = {label: [x["steps_per_s"] for x in rows if x["variant"] == label] for label, _ in VARIANTS}
                for label, _ in VARIANTS:
                    measured[("ours", label)].append(statistics.median(by_variant[label]))
                ratios = [f / x for f, x in zip(by_variant["fresh"], by_variant["fixed"])]
                pairs += ratios
                round_medians.append(statistics.median(ratios))
        for label, _ in VARIANTS:
            ours, peer = measured[("ours", label)], measured[("numpy", label)]
            ratios = [o / p for o, p in zip(ours, peer)]
            line = (f"| ({d}, {k}, {batch}) | {label} | {fmt(ours)} | {fmt(peer)} | {fmt(ratios)} "
                    f"| **{statistics.median(ratios):.2f}×** |")
            print(line, flush=True)
            lines.append(line)
        lo, hi = quartiles(pairs)
        fresh_fixed.append(f"| ({d}, {k}, {batch}) | {fmt(round_medians)} | {len(pairs)} "
                           f"| **{statistics.median(pairs):.2f}×** | {lo:.2f}–{hi:.2f} "
                           f"| {min(pairs):.2f}–{max(pairs):.2f} |")
    lines += ["", "## Fresh samples against fixed data (ours)", "",
              "Our fresh-sample step's steps/s over our fixed-data step's, repeat by repeat: one "
              "`bench-step --data fresh,fixed` process per round times the two in alternation (A B, "
              "B A, ...), so each pair is seconds apart (fresh draws B·d normals and the labels each "
              "step, fixed reuses one batch).", "",
              "| (d, k', B) | median per round | pairs | median of all pairs | quartiles | range |",
              "|---|---|---|---|---|---|"]
    lines += fresh_fixed
    lines += peak_rows(args, peer_env)
    ours_row = meta[args.bin]
    peer_row = meta[args.python]
    lines += ["", f"- ours: {ours_row['adapter']}, {ours_row['driver']}",
              f"- numpy {peer_row.get('numpy', '?')}: {peer_row.get('threadpools', '?')}", ""]
    text = "\n".join(lines)
    if args.out:
        tmp = args.out + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, args.out)
    print(text)


if __name__ == "__main__":
    main()
