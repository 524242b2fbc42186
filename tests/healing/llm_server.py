"""A real local HTTP server speaking the OpenAI chat-completions and Anthropic messages
wire formats. Each test sets what the "model" answers; every request is recorded raw so a
test can assert that no secret ever reached it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw)


@dataclass
class FakeLLM:
    """What the server answers: `content` text, after `delay` seconds."""

    content: str = "{}"
    delay: float = 0.0
    input_tokens: int = 420
    output_tokens: int = 80
    requests: list[Recorded] = field(default_factory=list)
    base: str = ""


def _handler(state: FakeLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            raw = self.rfile.read(length)
            state.requests.append(Recorded(self.path, dict(self.headers.items()), raw))
            if state.delay:
                time.sleep(state.delay)
            if self.path.endswith("/chat/completions"):
                payload: dict[str, Any] = {
                    "id": "chatcmpl-kyra",
                    "object": "chat.completion",
                    "created": 0,
                    "model": json.loads(raw).get("model", "m"),
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "message": {"role": "assistant", "content": state.content},
                        }
                    ],
                    "usage": {
                        "prompt_tokens": state.input_tokens,
                        "completion_tokens": state.output_tokens,
                        "total_tokens": state.input_tokens + state.output_tokens,
                    },
                }
            elif self.path.endswith("/messages"):
                payload = {
                    "id": "msg_kyra",
                    "type": "message",
                    "role": "assistant",
                    "model": json.loads(raw).get("model", "m"),
                    "content": [{"type": "text", "text": state.content}],
                    "stop_reason": "end_turn",
                    "stop_sequence": None,
                    "usage": {
                        "input_tokens": state.input_tokens,
                        "output_tokens": state.output_tokens,
                    },
                }
            else:
                self.send_response(404)
                self.end_headers()
                return
            body = json.dumps(payload).encode()
            try:
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

    return Handler


@contextmanager
def serve() -> Iterator[FakeLLM]:
    state = FakeLLM()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
