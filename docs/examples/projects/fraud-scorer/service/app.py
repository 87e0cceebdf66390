"""The scoring API: one POST per transaction, answered with a fraud probability."""
import joblib
from fastapi import FastAPI

app = FastAPI()
model = joblib.load("models/model.joblib")


@app.post("/score")
def score(transaction: dict) -> dict:
    return {"fraud_probability": float(model.predict_proba([list(transaction.values())])[0][1])}
