"""Bring your own learner: fit degree-2 least squares on the suite's training samples, predict
the suite's held-out test inputs, and let clwe-bench judge the predictions by the rule and on
the test set its own learners face. The secret never leaves the tool.

    python3 examples/bring_your_own_learner.py [path/to/clwe-bench]
"""
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/release/clwe-bench"
# The problem and the run to match: d = 4 at γ = 1 (γ_s ≈ 0.4, where degree-2 features see the
# target), instance 0, run's default budget except a 20 000-sample training set.
RUN = ["--d", "4", "--gamma", "1.0", "--instance", "0", "--train-size", "20000", "--n-test", "100000"]


def clwe_bench(*args):
    subprocess.run([BIN, *args, *RUN], check=True)


def features(x):
    d = x.shape[1]
    quadratic = [x[:, i] * x[:, j] for i in range(d) for j in range(i, d)]
    return np.column_stack([x, *quadratic, np.ones(len(x))])


with tempfile.TemporaryDirectory() as tmp:
    train, test_x, pred = (str(Path(tmp) / name) for name in ("train.npy", "test_x.npy", "pred.npy"))
    clwe_bench("sample", "planted", "--split", "train", "--n", "20000", "--out", train)
    clwe_bench("sample", "planted", "--split", "test", "--n", "100000", "--no-labels", "--out", test_x)
    rows = np.load(train)
    theta, *_ = np.linalg.lstsq(features(rows[:, :-1]), rows[:, -1], rcond=None)
    np.save(pred, features(np.load(test_x)) @ theta)
    clwe_bench("judge", "--pred", pred)
