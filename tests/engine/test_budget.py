"""A budget that holds: refused before any request reaches the server, counted from the ledger.

Every test drives the emulator over a real socket and counts what the server was asked
(``emu.stats()``), so "refused before any network" is asserted, not assumed. Prices are the
catalog's (``seedance-2.0``: $7/M tokens; a 4 s 480p clip is 40,176 tokens ≈ $0.2812).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from conftest import client_kwargs

import seedance_nb as sd
from seedance_nb import catalog
from seedance_nb import display as h
from seedance_nb.emulator import Emulator
from seedance_nb.engine.budget import row_cost
from seedance_nb.request import build_request

ROOT = Path(__file__).resolve().parents[2]
CLIP = {"model": "seedance-2.0", "duration": 4, "resolution": "480p"}
TOKENS = catalog.estimate_tokens(864, 496, 4)  # 40,176
CLIP_USD = TOKENS * 7.0 / 1e6  # ≈ $0.2812


def requests_seen(emu: Emulator) -> int:
    return sum(emu.stats()["requests"].values())


@pytest.fixture
def budgeted(emu: Emulator, tmp_path: Path) -> Iterator[Any]:
    """A client factory on this test's own emulator; closes what it made."""
    made: list[sd.Client] = []

    def make(**kw: Any) -> sd.Client:
        client = sd.Client(**client_kwargs(emu, tmp_path / "w", **kw))
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def test_a_submit_past_the_budget_is_refused_before_any_request(
    emu: Emulator, budgeted: Any
) -> None:
    client = budgeted(budget_usd=0.20)
    before = requests_seen(emu)
    with pytest.raises(sd.BudgetExceeded) as info:
        client.submit("A fox at dawn", **CLIP)
    err = info.value
    assert isinstance(err, sd.SeedanceError)
    assert (err.spent, err.budget) == (0.0, 0.20)
    assert err.estimate == pytest.approx(CLIP_USD)
    text = str(err)
    assert "$0.00" in text and "$0.28" in text and "$0.20" in text and "nothing was sent" in text
    assert "emulator" in text  # it says what it counts: the would-have-cost
    assert requests_seen(emu) == before  # not a create, not a status read
    assert client.ledger.count() == 0  # nothing claimed: the same request may run later


def test_spend_counts_billed_usage_reused_jobs_pass_and_others_are_refused(
    emu: Emulator, budgeted: Any
) -> None:
    client = budgeted(budget_usd=0.50)
    job = client.submit("A fox at dawn", **CLIP).wait(60)
    assert job.tokens == TOKENS
    spend = client.spend()
    assert spend.spent_usd == pytest.approx(job.tokens * 7.0 / 1e6)
    assert spend.would_have_cost_usd == pytest.approx(CLIP_USD) and spend.total_usd == 0.0
    (row,) = spend.rows
    assert (row.provider, row.model, row.jobs, row.emulated) == (
        "emulator",
        "seedance-2.0",
        1,
        True,
    )
    assert row.day == time.strftime("%Y-%m-%d") and row.estimated_usd == 0.0
    assert spend.left_usd == pytest.approx(0.50 - CLIP_USD)

    before = requests_seen(emu)
    with pytest.raises(sd.BudgetExceeded) as info:  # 0.28 spent + 0.28 > 0.50
        client.submit("An owl at dusk", **CLIP)
    assert info.value.spent == pytest.approx(CLIP_USD)
    assert requests_seen(emu) == before

    again = client.submit("A fox at dawn", **CLIP)  # the same request costs nothing
    assert again.reused and again.id == job.id
    assert emu.stats()["tasks_created"] == 1


def test_jobs_in_flight_count_their_estimate(tmp_path: Path) -> None:
    with Emulator(state_dir=tmp_path / "emu", queued_seconds=30, running_seconds=30) as emu:
        with sd.Client(**client_kwargs(emu, tmp_path / "w", budget_usd=0.50)) as client:
            running = client.submit("A slow fox", **CLIP)
            assert not running.done and running.tokens is None
            (row,) = client.spend().rows
            assert row.usd == pytest.approx(CLIP_USD) and row.estimated_usd == row.usd
            assert "(est. all)" in str(client.spend())
            before = emu.stats()["tasks_created"]
            with pytest.raises(sd.BudgetExceeded):
                client.submit("A second fox", **CLIP)
            assert emu.stats()["tasks_created"] == before
            client.budget_usd = 1.0  # raised: the same request now goes through
            assert client.submit("A second fox", **CLIP).task_id is not None


def test_set_price_changes_estimates_spend_and_the_budget(emu: Emulator, budgeted: Any) -> None:
    client = budgeted(budget_usd=0.10)
    listed = catalog.price_of("seedance-2.0")
    assert listed is not None and listed.read_on == catalog.LIST_READ_ON and not listed.own
    assert "byteplus" in listed.source.lower()
    with pytest.raises(sd.BudgetExceeded):
        client.submit("A fox under my contract", **CLIP)
    try:
        old = catalog.set_price("seedance-2.0", 1.0, source="our contract")
        assert old == listed
        mine = catalog.price_of("seedance-2.0")
        assert mine is not None and mine.own and mine.read_on == date.today()
        assert mine.source == "our contract"
        assert client.validate("x", **CLIP).estimated_cost == pytest.approx(TOKENS / 1e6)
        job = client.submit("A fox under my contract", **CLIP).wait(60)  # $0.04 fits
        assert client.spend().spent_usd == pytest.approx(job.tokens / 1e6)
        assert "est." not in h.done_summary(job) and f"· ${job.cost:.2f}" in h.done_summary(job)
    finally:
        catalog.reset_price("seedance-2.0")
    assert catalog.price_of("seedance-2.0") == listed
    assert client.spend().spent_usd == pytest.approx(CLIP_USD)  # the list price again
    with pytest.raises(ValueError, match="no tier"):
        catalog.set_price("seedance-9", 1.0)
    with pytest.raises(ValueError, match="negative"):
        catalog.set_price("seedance-2.0", -1)


def test_the_budget_comes_from_the_environment_unless_given(
    emu: Emulator, budgeted: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEEDANCE_BUDGET_USD", "0.1")
    client = budgeted()
    assert client.budget_usd == 0.1
    before = requests_seen(emu)
    with pytest.raises(sd.BudgetExceeded):
        client.submit("A fox", **CLIP)
    assert requests_seen(emu) == before
    assert budgeted(budget_usd=5).budget_usd == 5.0  # the argument wins
    monkeypatch.setenv("SEEDANCE_BUDGET_USD", "lots")
    with pytest.raises(sd.ConfigurationError, match="SEEDANCE_BUDGET_USD"):
        budgeted()
    with pytest.raises(sd.ConfigurationError, match="negative"):
        budgeted(budget_usd=-1)


def test_check_budget_refuses_a_whole_batch_at_once(emu: Emulator, budgeted: Any) -> None:
    client = budgeted(budget_usd=0.70)
    batch = [client.validate(f"A fox, take {i}", **CLIP) for i in range(3)]
    before = requests_seen(emu)
    with pytest.raises(sd.BudgetExceeded) as info:  # 3 × 0.28 = 0.84 > 0.70
        client.check_budget(batch)
    assert info.value.jobs == 3 and info.value.estimate == pytest.approx(3 * CLIP_USD)
    assert "these 3 jobs" in str(info.value)
    client.check_budget(batch[:2])  # 0.56 fits
    client.check_budget([batch[0], batch[0], batch[1]])  # the same request is paid once
    with pytest.raises(sd.BudgetExceeded):
        client.check_budget([batch[0], batch[0], batch[1]], force=True)
    assert requests_seen(emu) == before

    first = client.submit("A fox, take 0", **CLIP).wait(60)
    client.budget_usd = 0.01  # spent is already past it
    client.check_budget([first.request])  # reused: nothing to pay, so it passes
    assert client.submit("A fox, take 0", **CLIP).reused
    with pytest.raises(sd.BudgetExceeded):
        client.submit("A fox, take 0", force=True, **CLIP)  # a new take is paid again


def test_async_client_holds_the_same_budget(emu: Emulator, tmp_path: Path) -> None:
    async def main() -> None:
        async with sd.AsyncClient(**client_kwargs(emu, tmp_path / "w", budget_usd=0.2)) as ac:
            before = requests_seen(emu)
            with pytest.raises(sd.BudgetExceeded):
                await ac.submit("A fox", **CLIP)
            with pytest.raises(sd.BudgetExceeded):
                ac.check_budget([ac.validate("A fox", **CLIP)])
            assert requests_seen(emu) == before and ac.spend().spent_usd == 0.0

    asyncio.run(main())


def test_ended_jobs_cost_nothing_and_real_spend_is_counted_apart(
    emu: Emulator, budgeted: Any
) -> None:
    client = budgeted()
    failed = client.submit("A fox [[fail]]", **CLIP)
    with pytest.raises(sd.JobFailed):
        failed.wait(60)
    with pytest.raises(sd.APIError):  # refused at create: nothing was paid
        client.submit("A fox [[input-moderation]]", **CLIP)
    assert client.spend().spent_usd == 0.0

    # a job a real provider billed, in the same workdir's ledger
    ledger = client.ledger
    request = client.validate("A real fox", **CLIP)
    row, _ = ledger.claim(
        route="ark@ark.ap-southeast.bytepluses.com",
        request_hash="h-real",
        provider="ark",
        tier="seedance-2.0",
        model_id=request.model_id,
        prompt=request.prompt,
        request=request.model_dump(mode="json"),
        owner="test",
        force=False,
    )
    ledger.update(row["id"], phase="done", status="succeeded", usage_json={"total_tokens": 100_000})
    spend = client.spend()
    assert spend.total_usd == pytest.approx(0.7)  # 100,000 billed tokens × $7/M
    assert spend.would_have_cost_usd == 0.0 and spend.spent_usd == 0.0  # the emulator's pool
    assert spend.by("provider") == {"ark": pytest.approx(0.7), "emulator": 0.0}
    assert row_cost(ledger.get(row["id"]) or {}).estimated is False
    text = str(spend)
    assert "providers:" in text and "emulator: would have cost:" in text
    html = spend._repr_html_()
    assert html.count("seedance-bar") == 2 and "would have cost" in html


def test_unknown_outcomes_count_their_estimate() -> None:
    request, _ = build_request(catalog.get_provider("emulator"), "x", warn=False, **CLIP)
    row = {
        "phase": "unknown",
        "status": "unknown",
        "tier": "seedance-2.0",
        "usage_json": None,
        "request_json": json.dumps(request.model_dump(mode="json")),
    }
    assert row_cost(row).usd == pytest.approx(CLIP_USD) and row_cost(row).estimated
    assert row_cost({**row, "phase": "rejected"}).usd == 0.0


def test_spend_from_the_cli_reads_the_ledger_only(emu: Emulator, budgeted: Any) -> None:
    client = budgeted()
    client.submit("A fox for the CLI", **CLIP).wait(60)
    before = requests_seen(emu)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "seedance_nb.cli",
            "spend",
            "--json",
            "--workdir",
            str(client.workdir),
        ],
        capture_output=True,
        text=True,
        env={**_env(), "SEEDANCE_BUDGET_USD": "2"},
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["would_have_cost_usd"] == pytest.approx(CLIP_USD) and data["total_usd"] == 0.0
    assert data["budget_usd"] == 2.0 and data["budget_counts"] == "emulator"
    assert data["rows"][0]["jobs"] == 1 and data["rows"][0]["model"] == "seedance-2.0"
    assert "emulator" not in proc.stderr  # no emulator started, no notice
    assert requests_seen(emu) == before


def _env() -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.endswith("_KEY")}
    env["PYTHONPATH"] = str(ROOT)
    return env


# --- the magic: %config Seedance.budget_usd and %seedance spend --------------------------------


def test_the_magic_budget_refuses_in_one_line_and_spend_shows_it(
    ip: Any, emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shell_support import htmls, run, texts

    from seedance_nb.jupyter import runner

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SEEDANCE_EMULATOR_URL", emu.base_url)
    for key in ("SEEDANCE_PROVIDER", "SEEDANCE_WORKDIR", "SEEDANCE_BUDGET_USD"):
        monkeypatch.delenv(key, raising=False)
    runner._clients.clear()
    cell = "%%seedance -m seedance-2.0 --duration 4 --resolution 480p"

    async def main() -> None:
        await run(ip, "%config Seedance.workdir = 'seedance-output'")
        await run(ip, "%config Seedance.provider = ''")
        await run(ip, "%config Seedance.budget_usd = 0.5")
        _, cap = await run(ip, "%seedance config")
        assert "Seedance.budget_usd = 0.5" in texts(cap)[0]
        await run(ip, f"{cell} --wait --name first\nA fox at dawn")
        assert ip.user_ns["first"].job.status == "succeeded"
        before = requests_seen(emu)
        _, cap = await run(ip, f"{cell}\nAn owl at dusk")
        assert requests_seen(emu) == before  # refused in the cell, before any view or request
        (line,) = htmls(cap)
        assert "seedance-error" in line and "BudgetExceeded" in line and "$0.50" in line
        assert "mathjax_ignore" in line  # JupyterLab would typeset "$0.28 … $0.50" as TeX
        # the form and history share the notebook's client, so they hold the same budget
        client = runner.get_client(None, tmp_path / "seedance-output")
        assert client.budget_usd == 0.5
        _, cap = await run(ip, "%seedance spend")
        (text,) = texts(cap)
        assert "would have cost $0.28" in text and "budget $0.50" in text and "$0.22 left" in text
        assert "seedance-bar" in htmls(cap)[0] and "mathjax_ignore" in htmls(cap)[0]
        await run(ip, "%config Seedance.budget_usd = None")
        assert client.budget_usd is None
        _, cap = await run(ip, "%seedance config")
        assert "budget_usd" not in texts(cap)[0]

    try:
        asyncio.run(main())
    finally:
        runner._clients.clear()
        runner.set_budget(None)


def test_a_sweep_or_comparison_cell_past_the_budget_sends_nothing(
    ip: Any, emu: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Refused as a whole: the plan, then one error line; not the first few jobs sent and
    the rest failing one by one."""
    from shell_support import htmls, run

    from seedance_nb.jupyter import runner

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SEEDANCE_EMULATOR_URL", emu.base_url)
    for key in ("SEEDANCE_PROVIDER", "SEEDANCE_WORKDIR", "SEEDANCE_BUDGET_USD"):
        monkeypatch.delenv(key, raising=False)
    runner._clients.clear()
    clip = "--duration 4 --resolution 480p"

    async def main() -> None:
        await run(ip, "%config Seedance.workdir = 'seedance-output'")
        await run(ip, "%config Seedance.provider = ''")
        await run(ip, "%config Seedance.budget_usd = 0.5")  # one clip fits, three do not
        for cell in (
            f"%%seedance -m seedance-2.0 {clip} --sweep seed=1,2,3\nA fox at dawn",
            f"%%seedance -m seedance-2.0,seedance-2.0-fast,seedance-1.0-pro {clip}\nAn owl",
        ):
            _, cap = await run(ip, cell)
            await asyncio.sleep(0.5)  # anything launched would have reached the server by now
            assert requests_seen(emu) == 0, cell
            errors = [h for h in htmls(cap) if "seedance-error" in h]
            assert len(errors) == 1 and "BudgetExceeded" in errors[0], cell
        assert runner.get_client(None, tmp_path / "seedance-output").ledger.count() == 0

    try:
        asyncio.run(main())
    finally:
        runner._clients.clear()
        runner.set_budget(None)


def test_a_sweep_and_a_storyboard_past_the_budget_are_refused_before_any_request(
    emu: Emulator, budgeted: Any
) -> None:
    client = budgeted(budget_usd=0.70)
    before = requests_seen(emu)
    with pytest.raises(sd.BudgetExceeded) as info:  # 3 seeds × $0.28 > $0.70
        client.sweep("A {animal} at dawn", animal="fox", seed=[1, 2, 3], **CLIP)
    assert info.value.jobs == 3
    with pytest.raises(sd.BudgetExceeded) as info:  # 3 shots × $0.28
        client.storyboard(["A fox wakes", "The fox runs", "The fox sleeps"], **CLIP)
    assert info.value.jobs == 3
    assert requests_seen(emu) == before and client.ledger.count() == 0
    sweep = client.sweep("A {animal} at dawn", animal="fox", seed=[1, 2], **CLIP)  # $0.56 fits
    assert [j.status for j in sweep.wait()] == ["succeeded", "succeeded"]
