"""Fixtures of the data tests: a loopback HTTP server (with HTTP Range support), no internet;
a stand-in for the embedded jet generator (no Pythia)."""

from __future__ import annotations

import sys
import threading
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from cern_ai_bench.data import download
from tests.data.jet_file_builders import write_generated_sample


@dataclass
class FileServer:
    """Serves ``files`` (URL path -> bytes) on 127.0.0.1; records the requests it saw."""

    base_url: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    support_range: bool = True
    #: HTTP status codes to answer with (in order) before serving normally.
    fail_with: list[int] = field(default_factory=list)
    requests: list[dict[str, str]] = field(default_factory=list)

    def url(self, name: str) -> str:
        return f"{self.base_url}/{name}"


def _handler(server_state: FileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server_state.requests.append({"path": self.path, **dict(self.headers)})
            if server_state.fail_with:
                self.send_error(server_state.fail_with.pop(0))
                return
            body = server_state.files.get(self.path.lstrip("/"))
            if body is None:
                self.send_error(404)
                return
            range_header = self.headers.get("Range")
            if range_header and server_state.support_range:
                start = int(range_header.removeprefix("bytes=").split("-")[0])
                if start >= len(body):
                    self.send_error(416)
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                body = body[start:]
            else:
                self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output clean

    return Handler


@pytest.fixture
def file_server() -> Iterator[FileServer]:
    """A loopback HTTP file server for download tests."""
    state = FileServer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(autouse=True)
def no_retry_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retries of transient download errors happen at once in tests."""
    monkeypatch.setattr(download, "RETRY_DELAYS_S", (0.0, 0.0))


@pytest.fixture
def fake_generator(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    """Replace ``cern_ai_bench.generate.jets`` by a stand-in; return the calls it got.

    Its ``ensure_embedded_jets`` writes (once per folder) a tiny sample as the real generator
    leaves it: ``train/`` with 4 jets per class, ``val/`` with 10 jets, and ``manifest.json``.
    """
    calls: list[tuple] = []

    def ensure_embedded_jets(
        data_dir: Path,
        *,
        jets_per_class: int,
        seed: int,
        n_constituents: int,
        workers: int,
        progress: bool,
    ) -> Path:
        calls.append((data_dir, jets_per_class, seed, n_constituents, workers, progress))
        folder = data_dir / "embedded_jets" / f"n{jets_per_class}_seed{seed}"
        if not (folder / "manifest.json").is_file():
            labels = np.repeat(np.arange(5), 4)
            write_generated_sample(folder, labels, labels[::2])
        return folder

    fake = types.ModuleType("cern_ai_bench.generate.jets")
    fake.ensure_embedded_jets = ensure_embedded_jets  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "cern_ai_bench.generate.jets", fake)
    return calls
