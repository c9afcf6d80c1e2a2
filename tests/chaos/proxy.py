"""A loopback TCP proxy for the validator links of the chaos test (asyncio, one thread).

Every directed link i->j (node i dials node j) gets its own listening port; node i's config
names that port as node j's address. The test can cut a link (close its open connections and
refuse new ones), add latency to it (each chunk is held back for the delay, order kept), and
heal it. It can also record what crosses the links (to check that nothing travels in
plaintext) and flip one byte of a link's stream (to check that a corrupted frame drops that
connection only). Since the P2P transport keeps one connection per pair, chosen by a tie-break on who
dialed, cutting both directed links of a pair cuts the pair.
"""

import asyncio
import threading
import time

CAPTURE_LIMIT = 4 << 20  # bytes recorded per directed link while capturing


class _Link:
    def __init__(self, src, dst, listen_port, target_port):
        self.src, self.dst = src, dst
        self.listen_port = listen_port
        self.target_port = target_port
        self.cut = False
        self.delay = 0.0  # seconds, each direction
        self.conns = set()  # open (client_writer, upstream_writer) pairs
        self.server = None
        self.accepted = 0
        self.refused = 0
        self.capture = None  # bytearray of what crossed the link (both directions), while on
        self.flip = False    # flip one byte of the next chunk crossing the link
        self.flipped = 0


class LinkProxy:
    """Runs the proxies on a private event loop in a daemon thread; methods are thread-safe."""

    def __init__(self, links):
        # links: {(i, j): (listen_port, target_port)}
        self.links = {k: _Link(k[0], k[1], lp, tp) for k, (lp, tp) in links.items()}
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="link-proxy", daemon=True)
        self._started = threading.Event()
        self._error = None

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self):
        self.thread.start()
        self._started.wait(10)
        if self._error:
            raise self._error

    def _run(self):
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self._listen_all())
        except Exception as e:  # a port in use
            self._error = e
            self._started.set()
            return
        self._started.set()
        self.loop.run_forever()

    async def _listen_all(self):
        for link in self.links.values():
            link.server = await asyncio.start_server(
                lambda r, w, link=link: self._accept(link, r, w), "127.0.0.1", link.listen_port,
                reuse_address=True)

    def stop(self):
        def _stop():
            for link in self.links.values():
                if link.server:
                    link.server.close()
                self._close_all(link)
            self.loop.stop()
        try:
            self.loop.call_soon_threadsafe(_stop)
        except RuntimeError:
            pass
        self.thread.join(5)

    # ---- control (from any thread) ---------------------------------------------------------

    def _call(self, fn, *args):
        fut = asyncio.run_coroutine_threadsafe(self._wrap(fn, *args), self.loop)
        return fut.result(10)

    async def _wrap(self, fn, *args):
        return fn(*args)

    def cut(self, i, j):
        """Cuts both directions of the pair {i, j}."""
        self._call(self._set_cut, [(i, j), (j, i)], True)

    def heal_cut(self, i, j):
        self._call(self._set_cut, [(i, j), (j, i)], False)

    def set_delay(self, i, j, seconds):
        """Latency on both directed links of the pair {i, j} (each byte is delayed once per
        direction of travel, so a round trip gains 2 x seconds)."""
        self._call(self._set_delay, [(i, j), (j, i)], seconds)

    def heal_all(self):
        def _heal():
            for link in self.links.values():
                link.cut = False
                link.delay = 0.0
        self._call(_heal)

    def start_capture(self):
        """Records the bytes crossing every link, at most CAPTURE_LIMIT per link."""
        def _on():
            for link in self.links.values():
                link.capture = bytearray()
        self._call(_on)

    def stop_capture(self):
        """Stops recording; returns {(i, j): bytes} of what each directed link carried."""
        def _off():
            out = {k: bytes(l.capture or b"") for k, l in self.links.items()}
            for link in self.links.values():
                link.capture = None
            return out
        return self._call(_off)

    def flip_byte(self, i, j):
        """Flips one byte of the next chunk crossing the pair {i, j} (whichever directed link
        carries its connection). Returns the links' accepted counts before, for comparison."""
        def _arm():
            for k in [(i, j), (j, i)]:
                self.links[k].flip = True
            return self.links[(i, j)].accepted + self.links[(j, i)].accepted
        return self._call(_arm)

    def flip_result(self, i, j):
        """(bytes flipped, connections accepted) on the pair {i, j}; disarms a pending flip."""
        def _read():
            flipped = accepted = 0
            for k in [(i, j), (j, i)]:
                flipped += self.links[k].flipped
                accepted += self.links[k].accepted
            return flipped, accepted
        return self._call(_read)

    def disarm_flips(self):
        def _off():
            for link in self.links.values():
                link.flip = False
        self._call(_off)

    def state(self):
        return {k: (l.cut, l.delay) for k, l in self.links.items()}

    def _set_cut(self, keys, value):
        for k in keys:
            link = self.links[k]
            link.cut = value
            if value:
                self._close_all(link)

    def _set_delay(self, keys, seconds):
        for k in keys:
            self.links[k].delay = seconds

    @staticmethod
    def _close_all(link):
        for cw, uw in list(link.conns):
            for w in (cw, uw):
                if w is not None:
                    try:
                        w.transport.abort()
                    except Exception:
                        pass
        link.conns.clear()

    # ---- data path ---------------------------------------------------------------------------

    async def _accept(self, link, reader, writer):
        if link.cut:
            link.refused += 1
            writer.transport.abort()
            return
        try:
            ureader, uwriter = await asyncio.wait_for(
                asyncio.open_connection("127.0.0.1", link.target_port), 5)
        except Exception:
            writer.transport.abort()
            return
        if link.cut:  # cut while connecting
            writer.transport.abort()
            uwriter.transport.abort()
            return
        link.accepted += 1
        pair = (writer, uwriter)
        link.conns.add(pair)
        try:
            await asyncio.gather(self._pump(link, reader, uwriter), self._pump(link, ureader, writer))
        finally:
            link.conns.discard(pair)
            writer.transport.abort()
            uwriter.transport.abort()

    async def _pump(self, link, reader, writer):
        """Copies reader to writer; with a delay, each chunk leaves `delay` after it arrived."""
        queue = asyncio.Queue()

        async def sender():
            while True:
                item = await queue.get()
                if item is None:
                    break
                due, data = item
                wait = due - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                writer.write(data)
                await writer.drain()

        task = asyncio.ensure_future(sender())
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                if link.capture is not None and len(link.capture) < CAPTURE_LIMIT:
                    link.capture += data[:CAPTURE_LIMIT - len(link.capture)]
                if link.flip and len(data) > 0:
                    link.flip = False
                    for k in self.links.values():  # the pair's other direction too
                        if {k.src, k.dst} == {link.src, link.dst}:
                            k.flip = False
                    link.flipped += 1
                    b = bytearray(data)
                    b[len(b) // 2] ^= 0x01
                    data = bytes(b)
                queue.put_nowait((time.monotonic() + link.delay, data))
                if task.done():
                    break
        except (ConnectionError, OSError, asyncio.CancelledError):
            pass
        finally:
            queue.put_nowait(None)
            try:
                await task
            except Exception:
                pass
            try:
                writer.transport.abort()
            except Exception:
                pass
