"""Score the model on held-out features and write metrics.json."""
import json
import sys

import joblib
import pandas as pd

model = joblib.load(sys.argv[1])
frame = pd.read_parquet(f"{sys.argv[2]}/features.parquet")
score = model.score(frame.drop(columns=["is_fraud"]), frame["is_fraud"])
json.dump({"accuracy": score}, open("metrics.json", "w"))
