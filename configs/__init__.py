"""Hydra configs of cern_ai_bench, installed as the cern_ai_bench.configs package."""
