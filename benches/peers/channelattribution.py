"""Times ChannelAttribution's in-process Markov call on an aggregated paths file,
for the side-by-side figure in the README. Not part of the build or of CI.

    python3 -m venv /tmp/cavenv && /tmp/cavenv/bin/pip install ChannelAttribution pandas
    /tmp/cavenv/bin/python benches/peers/channelattribution.py FILE.paths.csv

and, on the same file, touchpoint's own compute time:

    cargo run --release --example attribute -- FILE.paths.csv --model markov --order 1 --timings
"""
import sys
import time

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
    print(f"channelattribution markov order={order} seconds={best:.4f}")
