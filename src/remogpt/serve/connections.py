"""Connections that stall before their request is complete are closed: the HTTP header timeout uvicorn lacks.

uvicorn waits forever for the rest of a request's headers, so a few hundred sockets that send half a header and
wait (slowloris) hold every connection slot and every other client gets 503. `header_timeout_protocol(seconds)`
is uvicorn's own h11 protocol with one timer more: armed when a connection opens and after each response, and
cancelled when a request's headers have arrived (its request/response cycle starts).
"""

from __future__ import annotations

HEADER_TIMEOUT_S = 10.0  # a browser sends a whole header in milliseconds


def header_timeout_protocol(seconds: float = HEADER_TIMEOUT_S):
    """A uvicorn `http=` protocol class closing connections whose request headers take longer than `seconds`."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class HeaderTimeoutProtocol(H11Protocol):
        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.cycle is not self._waiting_since:  # a new request's headers are complete
                self._disarm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm()  # the next request on this keep-alive connection gets the same time

        def connection_lost(self, exc) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._disarm()
            self._waiting_since = self.cycle
            self._header_timer = self.loop.call_later(seconds, self._close_stalled)

        def _disarm(self) -> None:
            timer = getattr(self, "_header_timer", None)
            if timer is not None:
                timer.cancel()
            self._header_timer = None

        def _close_stalled(self) -> None:
            self._header_timer = None
            if not self.transport.is_closing():
                self.transport.close()

    return HeaderTimeoutProtocol
