"""Turn raw card transactions into model features."""
import sys

import pandas as pd

raw, out = sys.argv[1], sys.argv[2]
frame = pd.read_csv(raw)
frame["amount_log"] = frame["amount"].clip(lower=0).add(1).apply("log")
frame.to_parquet(f"{out}/features.parquet")
