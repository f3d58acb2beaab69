"""Live viewers without a browser: each one streams a fake webcam into the app's Live tab over Gradio 6's own
protocol, as the page does, and counts the annotated frames that come back.

Four Chromium pages need more than the 2 cores this project's machines have (each renderer takes about 0.6 of
a core), so they starve the server they are meant to measure. A viewer here costs the client a few ms a frame:
the server gets the machine, as it does when viewers' browsers run on their own computers.

What a page does, and so what `stream_viewer` does (Gradio 6.31: routes.py, queueing.py, and the front end's
Webcam and client code):
- `GET /config` gives the `.stream()` event's id, its trigger's id and the other inputs' values;
- `GET /gradio_api/heartbeat/{session}` stays open while the page is; its end tells the server the page closed;
- the first frame joins the queue (`POST /gradio_api/queue/join`, the frame as a JPEG data URL, twice: as the
  input and as the event's data), then `GET /gradio_api/queue/data` streams the answers as server-sent events;
- once the event has started, every `stream_every` seconds a frame goes to `POST /gradio_api/stream/{event}`,
  without waiting for answers (the server reads the newest frame when it is free);
- stopping the webcam posts `/gradio_api/stream/{event}/close`.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import secrets
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import numpy as np
from PIL import Image

BROWSER_JPEG_QUALITY = 92  # canvas.toDataURL("image/jpeg")'s default in Chromium
CONNECTIONS_PER_HOST = 6  # Chromium's limit on HTTP/1.1


@dataclass
class ViewerCounts:
    """What one viewer saw; read from another thread while it streams."""

    sent: int = 0  # frames posted
    annotated: int = 0  # answers that carried an annotated frame
    joins: int = 0  # queue joins: one, and another after each event the server ended (its time limit)
    errors: list[str] = field(default_factory=list)


def data_url(frame: np.ndarray, quality: int = BROWSER_JPEG_QUALITY) -> str:
    """An RGB frame as the page sends it: a JPEG data URL."""
    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, "JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def stream_event(config: dict) -> tuple[int, int, list[int]]:
    """(event id, trigger id, input ids) of the app's only `.stream()` event, from `GET /config`."""
    for dependency in config["dependencies"]:
        for target_id, event in dependency["targets"]:
            if event == "stream":
                return dependency["id"], target_id, dependency["inputs"]
    raise LookupError("the app has no .stream() event")


async def server_sent_events(client: httpx.AsyncClient, url: str, **params: str) -> AsyncIterator[dict | str]:
    async with client.stream("GET", url, params=params, headers={"Accept": "text/event-stream"}) as response:
        response.raise_for_status()
        async for line in response.aiter_lines():
            if line.startswith("data:"):
                payload = line.removeprefix("data:").strip()
                yield json.loads(payload) if payload.startswith("{") else payload


async def stream_viewer(base_url: str, frames: list[str], stop: asyncio.Event, counts: ViewerCounts) -> None:
    """One page's live stream of `frames` (data URLs, looped) until `stop` is set, then the page closes."""
    session = secrets.token_hex(6)
    limits = httpx.Limits(max_connections=CONNECTIONS_PER_HOST, max_keepalive_connections=CONNECTIONS_PER_HOST)
    async with httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(30, read=None), limits=limits) as client:
        config = (await client.get("/config")).json()
        event_id, trigger_id, input_ids = stream_event(config)
        every = next(d for d in config["dependencies"] if d["id"] == event_id)["stream_every"]
        components = {c["id"]: c for c in config["components"]}
        # The other inputs as a fresh page holds them; a State travels as null (the server keeps its own).
        others = [None if components[i]["type"] == "state" else components[i]["props"].get("value")
                  for i in input_ids[1:]]
        event: dict[str, str | bool | None] = {"id": None, "started": False}

        def body(number: int, join: bool) -> bytes:
            frame = {"url": frames[number % len(frames)]}
            message = {"data": [frame, *others], "event_data": {"value": frame, "is_value_data": True},
                       "fn_index": event_id, "session_hash": session}
            return json.dumps(message | ({"trigger_id": trigger_id} if join else {})).encode()

        async def listen() -> None:
            async for message in server_sent_events(client, "/gradio_api/queue/data", session_hash=session):
                kind = message.get("msg") if isinstance(message, dict) else None
                if kind == "process_starts":
                    event["started"] = True
                elif kind == "process_streaming":
                    image = message["output"]["data"][0]  # a skipped output is {"__type__": "update"}
                    if isinstance(image, dict) and (image.get("url") or image.get("path")):
                        counts.annotated += 1
                elif kind == "process_completed":  # the event's time limit, or an error: the page joins again
                    if not message.get("success"):
                        counts.errors.append(str(message.get("output"))[:200])
                    event["id"], event["started"] = None, False
                elif kind in ("close_stream", "unexpected_error"):
                    return

        async def post_frame(number: int) -> None:
            response = await client.post(f"/gradio_api/stream/{event['id']}", content=body(number, False),
                                         headers={"Content-Type": "application/json"})
            if response.status_code != 200:
                counts.errors.append(f"frame: HTTP {response.status_code}")

        heartbeat = asyncio.create_task(drain(server_sent_events(client, f"/gradio_api/heartbeat/{session}")))
        listener: asyncio.Task | None = None
        in_flight: set[asyncio.Task] = set()
        number, tick = 0, time.monotonic()
        while not stop.is_set():
            if event["id"] is None:
                response = await client.post("/gradio_api/queue/join?", content=body(number, True),
                                             headers={"Content-Type": "application/json", "x-gradio-user": "app"})
                if response.status_code != 200:
                    counts.errors.append(f"join: HTTP {response.status_code}")
                    break
                event["id"], event["started"] = response.json()["event_id"], False
                counts.joins += 1
                counts.sent += 1
                if listener is None or listener.done():
                    listener = asyncio.create_task(listen())
            elif event["started"]:  # a page waiting for a free slot sends nothing
                task = asyncio.create_task(post_frame(number))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
                counts.sent += 1
            number, tick = number + 1, tick + every
            await asyncio.sleep(max(0.0, tick - time.monotonic()))
        for task in list(in_flight):
            task.cancel()
        if event["id"] is not None:
            await client.post(f"/gradio_api/stream/{event['id']}/close", content=b"{}")
        if listener is not None:
            try:
                await asyncio.wait_for(listener, 10)
            except TimeoutError:
                listener.cancel()
        heartbeat.cancel()  # the page closes


async def drain(events: AsyncIterator) -> None:
    async for _ in events:
        pass


class Viewers:
    """`count` viewers streaming `frames` (RGB) to the app at `base_url` from a thread of their own, until `close`."""

    def __init__(self, base_url: str, frames: list[np.ndarray], count: int):
        urls = [data_url(frame) for frame in frames]  # encoded once: the client's cost stays per frame sent
        self.counts = [ViewerCounts() for _ in range(count)]
        self._started = threading.Event()
        self._thread = threading.Thread(target=asyncio.run, args=(self._stream(base_url, urls),), daemon=True)
        self._thread.start()
        self._started.wait()

    async def _stream(self, base_url: str, urls: list[str]) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        self._started.set()
        viewers = [stream_viewer(base_url, urls, self._stop, counts) for counts in self.counts]
        for counts, result in zip(self.counts, await asyncio.gather(*viewers, return_exceptions=True), strict=True):
            if isinstance(result, BaseException):
                counts.errors.append(repr(result))

    def annotated(self) -> list[int]:
        """Annotated frames each viewer has received so far."""
        return [counts.annotated for counts in self.counts]

    def close(self) -> list[str]:
        """Stops the webcams and closes the pages; the viewers' errors, if any."""
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)
        return [error for counts in self.counts for error in counts.errors]
