"""Time the Python peers of the median workspace on the batch in DIR/batch.npy.

Usage: run_peers.py DIR

Each peer runs once untimed, then REPEATS times, and the minimum wall time is reported. The
estimates go to DIR/answers/py-INDEX.npy and the timings to DIR/peers.json as a list of objects with
the keys name, package, version, seconds, iterations (null where the package does not report
them) and error (null on success). A peer that fails to import or run is recorded with its
error and the others still run.
"""

import importlib.metadata
import json
import os
import sys
import time
import traceback

import numpy as np

REPEATS = 3
KRUM_F = 12


def version(package):
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def timed(run):
    """Return (minimum seconds, last result) over REPEATS runs after one untimed run."""
    result = run()
    best = float("inf")
    for _ in range(REPEATS):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def geom_median_peer(batch):
    from geom_median.numpy import compute_geometric_median

    # Defaults of geom_median 0.1.0: smoothing eps 1e-6, at most 100 iterations, stop on a
    # relative objective change of 1e-20.
    seconds, result = timed(lambda: compute_geometric_median(batch))
    return seconds, np.asarray(result.median), len(result.logs) - 1


def hdmedians_peer(batch):
    import hdmedians

    # Points are along axis 0 here; hdmedians stops when the iterate moves less than eps=1e-8.
    seconds, median = timed(lambda: np.asarray(hdmedians.geomedian(batch, axis=0)))
    return seconds, median.reshape(-1), None


def byzfl_geometric_median_peer(iterations):
    def run(batch):
        import byzfl

        aggregator = byzfl.GeometricMedian(nu=0.1, T=iterations)
        seconds, median = timed(lambda: np.asarray(aggregator(batch)))
        return seconds, median, iterations

    return run


def numpy_median_peer(batch):
    seconds, median = timed(lambda: np.median(batch, axis=0))
    return seconds, median, None


def byzfl_krum_peer(batch):
    import byzfl

    aggregator = byzfl.Krum(f=KRUM_F)
    seconds, chosen = timed(lambda: np.asarray(aggregator(batch)))
    return seconds, chosen, None


PEERS = [
    ("geom_median geometric median (defaults)", "geom-median", geom_median_peer),
    ("hdmedians geomedian (defaults)", "hdmedians", hdmedians_peer),
    ("byzfl GeometricMedian (defaults: T = 3)", "byzfl", byzfl_geometric_median_peer(3)),
    ("byzfl GeometricMedian (T = 100)", "byzfl", byzfl_geometric_median_peer(100)),
    ("numpy median axis=0", "numpy", numpy_median_peer),
    (f"byzfl Krum (f = {KRUM_F})", "byzfl", byzfl_krum_peer),
]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: run_peers.py DIR")
    directory = sys.argv[1]
    batch = np.load(os.path.join(directory, "batch.npy"))
    answers = os.path.join(directory, "answers")
    os.makedirs(answers, exist_ok=True)

    records = []
    for index, (name, package, peer) in enumerate(PEERS):
        record = {
            "name": name,
            "package": package,
            "version": version(package),
            "seconds": None,
            "iterations": None,
            "error": None,
        }
        try:
            seconds, answer, iterations = peer(batch)
            record["seconds"] = seconds
            record["iterations"] = iterations
            np.save(os.path.join(answers, f"py-{index}.npy"), np.asarray(answer, dtype=np.float64))
        except Exception as error:  # noqa: BLE001 -- a failing peer is recorded, not fatal
            record["error"] = f"{type(error).__name__}: {error}"
            traceback.print_exc()
        print(json.dumps(record), flush=True)
        records.append(record)

    with open(os.path.join(directory, "peers.json"), "w", encoding="utf-8") as out:
        json.dump(records, out, indent=1)


if __name__ == "__main__":
    main()
