"""The team's review of a model: statuses and residual risk, editing the review file, the fix
plan (Fix these first), and the diff between two versions."""
