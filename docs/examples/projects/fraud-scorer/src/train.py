"""Fit the fraud classifier and save it."""
import sys

import joblib
import pandas as pd
import yaml
from sklearn.ensemble import GradientBoostingClassifier

features, model_path = sys.argv[1], sys.argv[2]
params = yaml.safe_load(open("params.yaml"))["train"]
frame = pd.read_parquet(f"{features}/features.parquet")
classifier = GradientBoostingClassifier(n_estimators=params["n_estimators"])
classifier.fit(frame.drop(columns=["is_fraud"]), frame["is_fraud"])
joblib.dump(classifier, model_path)
