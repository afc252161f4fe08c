"""Evaluation: records, compiled plans, the run over a population, results and traces."""
