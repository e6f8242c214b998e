"""The README's Parquet figures: `touchpoint attribute FILE -m linear`
(1 and 2 threads) and DataFusion reading the same file alone (1 and 2
target partitions), measured in turns in one run, best of ROUNDS each.

    python3 side_by_side.py TOUCHPOINT_BINARY FILE.parquet [ROUNDS]

`touchpoint` is timed end to end as a process (start, read, attribute,
print); DataFusion as `read_parquet(FILE).collect()` (the Python
`datafusion` package, `pip install datafusion`), both in this process and,
like `touchpoint`, in a fresh process of its own (timed inside, after the
import). CPU seconds are user + system time. Prints one line per case and
the ratios of the best wall times.
"""
import os
import resource
import subprocess
import sys
import time

import datafusion

binary, path = sys.argv[1], sys.argv[2]
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
best = {}
CHILD = """
import sys, time, datafusion
ctx = datafusion.SessionContext(
    datafusion.SessionConfig().with_target_partitions(int(sys.argv[2])))
c0, t0 = time.process_time(), time.perf_counter()
sum(b.num_rows for b in ctx.read_parquet(sys.argv[1]).collect())
print(time.perf_counter() - t0, time.process_time() - c0)
"""


def keep(name, wall, cpu):
    w, c = best.get(name, (1e9, 1e9))
    best[name] = (min(w, wall), min(c, cpu))


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


for _ in range(rounds):
    for threads in (1, 2):
        env = dict(os.environ, TOUCHPOINT_THREADS=str(threads))
        c0, t0 = children_cpu(), time.perf_counter()
        subprocess.run(
            [binary, "attribute", path, "-m", "linear", "--format", "json", "-q"],
            env=env, check=True, stdout=subprocess.DEVNULL,
        )
        keep(f"touchpoint, {threads} thread(s)", time.perf_counter() - t0, children_cpu() - c0)
    for parts in (1, 2):
        out = subprocess.run(
            [sys.executable, "-c", CHILD, path, str(parts)],
            check=True, capture_output=True, text=True,
        ).stdout.split()
        keep(f"datafusion {datafusion.__version__}, {parts} partition(s), own process",
             float(out[0]), float(out[1]))
        ctx = datafusion.SessionContext(
            datafusion.SessionConfig().with_target_partitions(parts)
        )
        c0, t0 = time.process_time(), time.perf_counter()
        rows = sum(b.num_rows for b in ctx.read_parquet(path).collect())
        keep(f"datafusion {datafusion.__version__}, {parts} partition(s)",
             time.perf_counter() - t0, time.process_time() - c0)

for name, (wall, cpu) in best.items():
    print(f"{name}: {wall:.3f} s wall, {cpu:.3f} s CPU (best of {rounds})")
names = list(best)
for t in names[:2]:
    for d in names[2:]:
        if t.endswith(("1 thread(s)",)) == (" 1 partition" in d):
            print(f"ratio {t} / {d}: {best[t][0] / best[d][0]:.2f} wall, {best[t][1] / best[d][1]:.2f} CPU")
print("load average:", " ".join(f"{x:.2f}" for x in os.getloadavg()))
