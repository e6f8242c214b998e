"""DataFusion reading a Parquet file alone, every column materialized: the
reference of the README's Parquet figures.

    python3 datafusion_read.py FILE.parquet [PARTITIONS]

Prints the best of 3 wall times (and CPU times of the process) of `read_parquet(FILE).collect()` with the
Python `datafusion` package (`pip install datafusion`), PARTITIONS target
partitions (default 1).
"""
import sys
import time

import datafusion

path = sys.argv[1]
parts = int(sys.argv[2]) if len(sys.argv) > 2 else 1
ctx = datafusion.SessionContext(datafusion.SessionConfig().with_target_partitions(parts))
best, best_cpu = 1e9, 1e9
for _ in range(3):
    t0, c0 = time.perf_counter(), time.process_time()
    batches = ctx.read_parquet(path).collect()
    rows = sum(b.num_rows for b in batches)
    best = min(best, time.perf_counter() - t0)
    best_cpu = min(best_cpu, time.process_time() - c0)
print(
    f"datafusion {datafusion.__version__}, {parts} partition(s): {rows} rows in {best:.3f} s"
    f" wall, {best_cpu:.3f} s CPU (best of 3)"
)
