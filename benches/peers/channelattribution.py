"""Side-by-side timing of ChannelAttribution's in-process Markov call, for the
README. Not part of the build or of CI.

    python3 -m venv /tmp/cavenv && /tmp/cavenv/bin/pip install ChannelAttribution pandas
    /tmp/cavenv/bin/python benches/peers/channelattribution.py --generate /tmp/gen100k.paths.csv
    /tmp/cavenv/bin/python benches/peers/channelattribution.py /tmp/gen100k.paths.csv
    cargo run --release --example attribute -- /tmp/gen100k.paths.csv --model markov --order 1 --timings
    cargo run --release --example attribute -- /tmp/gen100k.paths.csv --model markov --order 3 --timings

`--generate` writes the 100,000 journeys of the `markov/fit_solve/.../journeys=100k`
criterion bench (splitmix64, seed 2, 12 channels) as aggregated paths.

Or everything in one command, from the repository root (generates the paths,
times ChannelAttribution in process, times `examples/attribute --timings`
on the same file, prints the side-by-side table):

    /tmp/cavenv/bin/python benches/peers/channelattribution.py --compare

Every time is the best of 5 runs. What each side's time includes:

- ChannelAttribution: the whole in-process call on the pandas DataFrame
  (`markov_model`, or `heuristic_models` for first + last + linear, which
  computes the three in one call); it splits the path strings itself.
- touchpoint: `compute_seconds` of `examples/attribute --timings`, the
  model's work only (Markov: counting the rows' transitions, the solve and
  the credit; first, last, linear: crediting the rows' distinct converting
  journeys, each once, times its count, and building the report). Reading
  the file, parsing it and interning the paths into journeys come before
  the clock (`read_seconds`, printed in its own column): they do not
  depend on the model. First + last + linear is the sum
  of three runs, one per model.
- the physical reference: `scan_seconds` of the same runs, one pass over
  what the model reads, in memory, doing nothing else (Markov: every
  row's channel names and counts; first, last, linear: the distinct
  converting journeys' channel ids and times), best of five passes per
  run. For first + last + linear it is one scan: a caller computing the
  three would read its input once.

Set CARGO_TARGET_DIR as for any build; the example is built in release.
"""
import sys
import time


def generate(out):
    NAMES = ["paid_search","organic_search","email","direct","display","paid_social",
             "referral","video","affiliate","webinar","events","partner"]
    M = (1 << 64) - 1
    state = 2
    def nxt():
        nonlocal state
        state = (state + 0x9e3779b97f4a7c15) & M
        z = state
        z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M
        z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M
        return z ^ (z >> 31)

    n, ch = 100_000, 12
    tri = ch * (ch + 1) // 2
    agg = {}
    for i in range(n):
        ln = 1
        while ln < 12 and nxt() % 10 < 6:
            ln += 1
        p = 30 + 15 * ln
        path = []
        for k in range(ln):
            r = nxt() % tri
            c = 0
            while r >= ch - c:
                r -= ch - c
                c += 1
            if c < 3:
                p += 40
            path.append(NAMES[c])
        key = " > ".join(path)
        a = agg.setdefault(key, [0, 0, 0])
        if nxt() % 1000 < p:
            cents = 1000 + nxt() % 50000
            a[0] += 1; a[1] += cents
        else:
            a[2] += 1
    rows = [(k, v[0], v[1] / 100, v[2]) for k, v in sorted(agg.items())]
    with open(out, "w") as f:
        f.write("path,total_conversions,total_conversion_value,total_null\n")
        for k, c, v, nn in rows:
            f.write(f"{k},{c},{v:.2f},{nn}\n")


def best_of(n, f):
    best = float("inf")
    for _ in range(n):
        t = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t)
    return best


def touchpoint_seconds(path, args, runs=5):
    """Best `compute_seconds`, best `read_seconds` and best `scan_seconds`
    of `examples/attribute` over `runs` runs."""
    import re
    import subprocess
    cmd = ["cargo", "run", "-q", "--release", "--example", "attribute", "--", path,
           "--timings"] + args
    best, read, scan = float("inf"), float("inf"), float("inf")
    for _ in range(runs):
        r = subprocess.run(cmd, capture_output=True, text=True, check=True)
        best = min(best, float(re.search(r"compute_seconds=([0-9.]+)", r.stderr).group(1)))
        read = min(read, float(re.search(r"read_seconds=([0-9.]+)", r.stderr).group(1)))
        scan = min(scan, float(re.search(r"scan_seconds=([0-9.]+)", r.stderr).group(1)))
    return best, read, scan


def compare():
    import os
    import tempfile
    import pandas as pd
    from ChannelAttribution import heuristic_models, markov_model

    path = os.path.join(tempfile.mkdtemp(), "gen100k.paths.csv")
    generate(path)
    df = pd.read_csv(path)
    rows = []
    for order in (1, 3):
        ca = best_of(5, lambda: markov_model(
            df, "path", "total_conversions", var_value="total_conversion_value",
            var_null="total_null", order=order, sep=">", verbose=0))
        tp, read, scan = touchpoint_seconds(path, ["--model", "markov", "--order", str(order)])
        rows.append((f"Markov order {order}", ca, tp, read, scan))
    ca = best_of(5, lambda: heuristic_models(
        df, "path", "total_conversions", var_value="total_conversion_value", sep=">"))
    runs = [touchpoint_seconds(path, ["--model", m])
            for m in ("first_touch", "last_touch", "linear")]
    rows.append(("first + last + linear", ca, sum(r[0] for r in runs), runs[0][1],
                 min(r[2] for r in runs)))
    print("| 100k journeys, 12 channels | ChannelAttribution 2.2.5 (s) | touchpoint compute (s) "
          "| ratio | memory scan of the same input (s) | compute / scan "
          "| touchpoint read + intern, once (s) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, ca, tp, read, scan in rows:
        print(f"| {name} | {ca:.4f} | {tp:.5f} | {ca / tp:.0f}x | {scan:.6f} | {tp / scan:.1f} "
              f"| {read:.4f} |")


def main():
    if sys.argv[1] == "--generate":
        generate(sys.argv[2])
        return
    if sys.argv[1] == "--compare":
        compare()
        return
    import pandas as pd
    from ChannelAttribution import markov_model

    df = pd.read_csv(sys.argv[1])
    for order in (1, 3):
        best = float("inf")
        for _ in range(5):
            t = time.perf_counter()
            markov_model(df, "path", "total_conversions", var_value="total_conversion_value",
                         var_null="total_null", order=order, sep=">", verbose=0)
            best = min(best, time.perf_counter() - t)
        print(f"channelattribution markov order={order} seconds={best:.4f} (best of 5)")


main()
