"""Writes the 10-million-touch Parquet file of the README's Parquet figures.

    python3 gen_touches.py OUT.parquet

10,000,000 touch rows in about 3.0 million journeys (geometric path
lengths), rows of each journey contiguous, 12 channels dictionary-encoded,
microsecond UTC timestamps, `converted` and `value` on the last row of
13% of journeys; snappy, pyarrow's default row groups. Needs numpy and
pyarrow (`pip install pyarrow`); seeded, so the file is the same on every run.
"""
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

out = sys.argv[1]
rng = np.random.default_rng(1)
n = 10_000_000
lengths = rng.geometric(0.3, size=4_000_000)
cum = np.cumsum(lengths)
k = np.searchsorted(cum, n)
lengths = lengths[: k + 1]
lengths[-1] -= cum[k] - n
journey = np.repeat(np.arange(len(lengths)), lengths)
chan_names = [
    "paid_search", "organic_search", "paid_social", "email", "display", "referral",
    "webinar", "direct", "affiliate", "video", "partner", "events",
]
ch = rng.integers(0, 12, size=n).astype(np.int32)
ts = (1735689600_000_000 + np.sort(rng.integers(0, 300 * 86400_000_000, size=n))).astype(np.int64)
last = np.zeros(n, dtype=bool)
last[np.cumsum(lengths) - 1] = True
conv = last & (rng.random(n) < 0.13)
value = np.where(conv, np.round(rng.lognormal(4.2, 0.7, size=n), 2), np.nan)
t = pa.table(
    {
        "journey_id": pa.array(np.char.add("j", journey.astype(str))),
        "channel": pa.DictionaryArray.from_arrays(pa.array(ch), pa.array(chan_names)),
        "ts": pa.array(ts, type=pa.timestamp("us", tz="UTC")),
        "converted": pa.array(conv),
        "value": pa.array(value, mask=~conv),
    }
)
pq.write_table(t, out, compression="snappy")
print(t.num_rows, "rows,", len(lengths), "journeys,", int(conv.sum()), "conversions")
