"""The Bot Connector client's HTTP on aiohttp, in the event loop, instead of `requests` in a
thread pool.

Out of the box the SDK's `ConnectorClient` (msrest underneath) sends every request with
`requests` inside `loop.run_in_executor`: the default executor has min(32, cores + 4) threads,
six on a two-core machine, so at most six messages are on their way at once per process, and
each one costs a thread hand-off. At Teams' latency (100–300 ms a request) six in flight is
20–60 messages a second, the whole of Teams' 50 a second per tenant with nothing to spare for
the turns; measured with py-spy under `bench/broadcast.py`, the thread pool and `requests` took
over a third of the sender's CPU.

msrest ships an aiohttp sender; this puts it in the client's pipeline, with the same policies
the SDK's default pipeline has (user agent, the Bot Framework token, raw deserialisation, HTTP
logging). The token is the SDK's own credentials' (`get_access_token`, MSAL's cache), fetched
off the event loop. Retries stay ours (bot/proactive/messenger.py): msrest's aiohttp sender
retries nothing by itself.
"""

from __future__ import annotations

import os
import ssl
from typing import Any

import aiohttp
import certifi
from msrest.exceptions import ClientRequestError
from msrest.pipeline.aiohttp import AioHTTPSender
from msrest.pipeline.async_abc import AsyncHTTPPolicy, AsyncPipeline
from msrest.pipeline.universal import RawDeserializer
from msrest.universal_http import ClientRequest
from msrest.universal_http.aiohttp import AioHttpClientResponse
from msrest.universal_http.aiohttp import AioHTTPSender as AioHTTPDriver

# A request to the Bot Connector that takes longer has failed; the messenger retries it.
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=60, connect=10)


class _BotToken(AsyncHTTPPolicy[Any, Any]):
    """The Bot Framework token on every request, as the SDK's credentials put it on a
    `requests` session (`AppCredentials.signed_session`): none for an anonymous bot."""

    def __init__(self, credentials: Any) -> None:
        super().__init__()
        self._credentials = credentials

    async def send(self, request: Any, **kwargs: Any) -> Any:
        credentials = self._credentials
        if credentials is not None and credentials._should_set_token(None):
            # From MSAL's cache, in the loop as the SDK's own policy does it: a thread hop per
            # request would queue behind the chart and PDF renders in the shared pool. Near
            # the token's end MSAL renews it: one network call an hour.
            token = credentials.get_access_token()
            request.http_request.headers["Authorization"] = f"Bearer {token}"
        assert self.next is not None  # the pipeline links every policy to the next
        return await self.next.send(request, **kwargs)


def certificates() -> ssl.SSLContext:
    """The certificate authorities requests trusted: REQUESTS_CA_BUNDLE or SSL_CERT_FILE (a
    municipality's own, for a proxy that inspects TLS), else certifi's."""
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE")
    return ssl.create_default_context(cafile=bundle or certifi.where())


class _Response(AioHttpClientResponse):
    """A response with an empty body (a 202, a gateway's bare 502) is an empty body, not the
    «Body is not available» msrest's raises."""

    def body(self) -> bytes:
        return self._body or b""


class _Driver(AioHTTPDriver):
    """msrest's aiohttp driver, with a session made in the running loop with a timeout, that
    sends the request's headers and body (msrest's own passes neither) and says a failure on
    the way as msrest's requests driver does (ClientRequestError), which every caller of the
    connector client catches."""

    def __init__(self) -> None:  # the parent's would make a session without a timeout
        # trust_env: HTTPS_PROXY and NO_PROXY (and .netrc), which requests honoured too, for a
        # municipality whose servers reach Teams through a proxy.
        self._session = aiohttp.ClientSession(
            timeout=REQUEST_TIMEOUT,
            trust_env=True,
            connector=aiohttp.TCPConnector(ssl=certificates()),
        )

    async def send(self, request: ClientRequest, **_config: Any) -> AioHttpClientResponse:
        try:
            result = await self._session.request(
                request.method, request.url, headers=request.headers, data=request.data
            )
            response = _Response(request, result)
            await response.load_body()
        except (aiohttp.ClientError, TimeoutError) as error:
            raise ClientRequestError(f"{type(error).__name__}: {error}") from error
        return response


def use_aiohttp(client: Any) -> Any:
    """The connector client, its requests now sent with aiohttp. Call in the event loop."""
    config = getattr(client, "config", None)
    if config is None or not hasattr(config, "pipeline"):
        return client  # not msrest's (a test's stand-in): left as it is
    policies = [
        config.user_agent_policy,
        _BotToken(getattr(config, "credentials", None)),
        RawDeserializer(),
        config.http_logger_policy,
    ]
    config.pipeline = AsyncPipeline(policies, AioHTTPSender(_Driver()))
    return client
