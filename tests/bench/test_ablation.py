"""cern-ai-bench-ablate: variants through the one engine, ratios to the first variant."""

from __future__ import annotations

import json

import pytest

from cern_ai_bench.bench.ablation import main

TINY = [
    "dataset.jets_per_class=10",
    "dataset.workers=1",
    "trainer.batch_size=8",
    "trainer.window_steps=2",
    "trainer.warmup_windows=0",
]


@pytest.mark.slow
def test_loader_ablation_prints_and_writes_ratios(jets_data_dir, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CERN_AI_BENCH_DATA", str(jets_data_dir))
    out = tmp_path / "ablation"
    main(
        [
            "--vary",
            "trainer.loader=dataloader,resident",
            "--repeats",
            "2",
            "--steps",
            "4",
            "--out",
            str(out),
            *TINY,
        ]
    )
    table = capsys.readouterr().out
    assert "| trainer.loader=dataloader | 8 |" in table and "1.00x" in table
    rows = json.loads(out.with_suffix(".json").read_text())
    assert [r["variant"] for r in rows] == ["trainer.loader=dataloader", "trainer.loader=resident"]
    assert all(len(r["runs"]) == 2 and r["samples_per_s"] > 0 for r in rows)
    assert rows[1]["ratio_to_baseline"] == pytest.approx(
        rows[1]["samples_per_s"] / rows[0]["samples_per_s"]
    )
    assert out.with_suffix(".md").read_text().strip() == table.strip()


def test_bad_vary_argument_is_explained():
    with pytest.raises(SystemExit, match="--vary expects KEY=V1,V2"):
        main(["--vary", "trainer.loader", "model=mlp"])


def test_only_trainer_settings_can_vary():
    with pytest.raises(SystemExit, match="only trainer"):
        main(["--vary", "model=mlp,pfn"])
    with pytest.raises(SystemExit, match="only trainer"):
        main(["--vary", "trainer.device=cpu,cuda"])
