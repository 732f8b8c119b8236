"""LLL speed against fplll, side by side: clwe-bench's `lll-reduce` and fplll's `fplll -a lll`
(both δ = 0.99, both as processes reading and writing fplll's text format), interleaved run by
run so that both see the same machine minute, best of N each; every output of ours is checked
with fpylll's LLL.is_reduced(δ = 0.99, η = 0.51). Bases: the attack's own (`clwe-bench lattice
--out`, noiseless default precision) and fplll's generator families (`latticegen`)."""
import argparse
import datetime
import platform
import subprocess
import tempfile
import time
from pathlib import Path

from fpylll import LLL, IntegerMatrix

CASES = [
    ("attack clwe d=30", "lattice", ["--mode", "clwe", "--d", "30"]),
    ("attack clwe d=60", "lattice", ["--mode", "clwe", "--d", "60"]),
    ("attack clwe d=90", "lattice", ["--mode", "clwe", "--d", "90"]),
    ("attack triangle d=30", "lattice", ["--mode", "triangle", "--d", "30"]),
    ("attack triangle d=50", "lattice", ["--mode", "triangle", "--d", "50"]),
    ("knapsack r n=40, 100 bits", "latticegen", ["r", "40", "100"]),
    ("knapsack r n=40, 200 bits", "latticegen", ["r", "40", "200"]),
    ("knapsack r n=60, 100 bits", "latticegen", ["r", "60", "100"]),
    ("knapsack r n=60, 200 bits", "latticegen", ["r", "60", "200"]),
    ("knapsack r n=100, 100 bits", "latticegen", ["r", "100", "100"]),
    ("knapsack r n=100, 200 bits", "latticegen", ["r", "100", "200"]),
    ("q-ary q n=60, k=30, 30 bits", "latticegen", ["q", "60", "30", "30", "b"]),
    ("q-ary q n=100, k=50, 30 bits", "latticegen", ["q", "100", "50", "30", "b"]),
    ("uniform u n=40, 30 bits", "latticegen", ["u", "40", "30"]),
]


def timed(command, timeout):
    start = time.perf_counter()
    try:
        subprocess.run(command, check=True, timeout=timeout, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bin", default="target/release/clwe-bench")
    parser.add_argument("--out", default="results/lll/fplll-comparison.md")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, source, params in CASES:
            basis, ours_out, theirs_out = (Path(tmp) / f for f in ("basis.txt", "ours.txt", "theirs.txt"))
            if source == "lattice":
                subprocess.run([args.bin, "lattice", *params, "--out", str(basis)], check=True, stderr=subprocess.DEVNULL)
            else:
                basis.write_bytes(subprocess.run(["latticegen", *params], check=True, stdout=subprocess.PIPE).stdout)
            dim = IntegerMatrix.from_file(str(basis)).nrows
            ours, theirs = [], []
            for _ in range(args.repeats):
                t = timed([args.bin, "lll-reduce", "--in", str(basis), "--out", str(ours_out), "--delta", "0.99"], args.timeout)
                ours.append(t)
                with open(theirs_out, "wb") as f:
                    start = time.perf_counter()
                    subprocess.run(["fplll", "-a", "lll", "-d", "0.99", str(basis)], check=True, stdout=f, timeout=args.timeout)
                    theirs.append(time.perf_counter() - start)
                if t is None:
                    break  # ours timed out: no point repeating
            best_ours = None if None in ours else min(ours)
            best_theirs = min(theirs)
            reduced = best_ours is not None and LLL.is_reduced(IntegerMatrix.from_file(str(ours_out)), delta=0.99, eta=0.51)
            rows.append((name, dim, best_theirs, best_ours, reduced))
            ratio = f"{best_ours / best_theirs:.2f}" if best_ours else f"> {args.timeout / best_theirs:.0f}"
            print(f"{name}: dimension {dim}, fplll {best_theirs:.3f} s, ours {best_ours or float('nan'):.3f} s, ratio {ratio}, reduced {reduced}", flush=True)
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    fplll_version = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "fplll-tools"], stdout=subprocess.PIPE, text=True).stdout
    lines = [
        "# LLL speed against fplll",
        "",
        f"`bash scripts/compare_fplll.sh` on {cpu}, {datetime.date.today()}: fplll-tools {fplll_version} (`fplll -a lll -d 0.99`)",
        f"against `clwe-bench lll-reduce --delta 0.99`, both as processes on fplll's text format, run alternately, best of {args.repeats};",
        f"a run over {args.timeout:.0f} s is stopped. \"fpylll check\": fpylll's `LLL.is_reduced(δ = 0.99, η = 0.51)` on our output.",
        "",
        "| basis | dimension | fplll (s) | clwe-bench (s) | ratio | fpylll check |",
        "|---|---|---|---|---|---|",
    ]
    for name, dim, theirs, ours, reduced in rows:
        ours_s = f"{ours:.3f}" if ours else f"> {args.timeout:.0f}"
        ratio = f"{ours / theirs:.2f}" if ours else f"> {args.timeout / theirs:.0f}"
        lines.append(f"| {name} | {dim} | {theirs:.3f} | {ours_s} | {ratio} | {'reduced' if reduced else 'NOT checked' if not ours else 'NOT reduced'} |")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
