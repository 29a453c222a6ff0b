"""The Starlette application: routes, error handlers and start-up checks, built by a factory."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import Route

from claude_max.core import catalog, leftovers, model_cache
from claude_max.core.cli_models import CLIModels
from claude_max.core.conversation import Conversation, TextPart, Turn
from claude_max.core.errors import ClaudeMaxError
from claude_max.core.pool import Pool
from claude_max.core.processes import kill_all
from claude_max.core.settings import Settings
from claude_max.server import errors, health, observe, routes, usage
from claude_max.server.access import AccessLog
from claude_max.server.ends import EndWithClient
from claude_max.server.guard import Guard
from claude_max.server.limits import Limiter
from claude_max.server.recording import Observe
from claude_max.turns.service import TurnService

# What most clients send first: no system prompt, the default model, no limits. The pool starts
# with a process for it; after that it follows what clients actually send.
DEFAULT_REQUEST = Conversation(turns=(Turn("user", (TextPart("."),)),), model=catalog.DEFAULT_ALIAS)


PRUNE_EVERY = 600.0  # seconds between sweeps of kept stateless CLI sessions


async def _prune_forever(app: Starlette, settings: Settings) -> None:
    """Delete kept stateless CLI sessions past their age or size cap: at start, then every
    PRUNE_EVERY seconds, off the event loop. Only sessions the proxy created are touched."""
    from claude_max.sessions.db import DB_NAME
    from claude_max.turns import auto

    while True:
        # None when unreadable: logged once, tried again later; the server goes on without it
        store = routes.store_if_readable(app) if (settings.home / DB_NAME).exists() else None
        if store is not None:
            with contextlib.suppress(Exception):  # a sweep that fails is retried next time
                await asyncio.to_thread(
                    auto.prune,
                    store,
                    max_age=settings.continuation_ttl,
                    max_bytes=int(settings.continuation_max_mb * 1024 * 1024),
                )
        if settings.history_days > 0:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(usage.prune, app, settings.history_days)
        await asyncio.sleep(PRUNE_EVERY)


def create_app(settings: Settings, *, max_body: int | None = None) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.max_body = max_body or settings.max_body
        app.state.started = time.monotonic()
        app.state.limiter = Limiter(settings.max_concurrency, settings.max_queue)
        app.state.pool = Pool(settings.warm, settings.warm_ttl) if settings.warm > 0 else None
        app.state.store = None  # the session store, opened on the first X-Session-Id
        app.state.models = CLIModels(settings, None)  # the CLI's model list, once known
        app.state.turns = TurnService(
            settings,
            pool=app.state.pool,
            store=lambda: routes.sessions_store_of(app),
            readable_store=lambda: routes.store_if_readable(app),
            slot=app.state.limiter.slot,
        )
        app.state.login = None  # `claude auth status`, checked below and by /health
        app.state.login_check = None
        await observe.load_saved(app.state)
        app.state.store_error = None  # (when, why) the store last failed to open
        # what CLIs of an earlier, killed server left behind (pid files, sockets, prompts)
        await asyncio.to_thread(leftovers.sweep, os.environ, settings.tmpdir(), settings.workdir())
        usage.start(app, settings)  # request history and metrics
        try:
            claude = settings.claude()
        except ClaudeMaxError as exc:
            app.state.cli_info = routes.cli_info(None, None, exc.message)
        else:
            try:
                version = await asyncio.to_thread(model_cache.cli_version, claude)
            except OSError as exc:
                app.state.cli_info = routes.cli_info(claude, None, str(exc))
            else:
                app.state.cli_info = routes.cli_info(claude, version, None)
                if version is not None:  # `claude-max models` finds its list without asking
                    model_cache.remember_version(settings.home, claude, version)
                app.state.models = CLIModels(settings, version)
                app.state.models.load_cached()
                await health.refresh_login(app.state)
                app.state.turns.warm_up(DEFAULT_REQUEST)
        for line in health.warnings(app.state):
            print(f"  {line}", file=sys.stderr, flush=True)
        pruning = asyncio.ensure_future(_prune_forever(app, settings))
        try:
            yield
        finally:
            pruning.cancel()
            await health.stop_checks(app.state)
            if app.state.pool is not None:
                await app.state.pool.aclose()
            if app.state.store is not None:
                app.state.store.close()
            usage.stop(app)
            kill_all()  # whatever uvicorn's graceful shutdown left running

    return Starlette(
        routes=[
            Route("/health", health.health, methods=["GET"]),
            Route("/v1/models", routes.list_models, methods=["GET"]),
            Route("/v1/models/{model_id:path}", routes.get_model, methods=["GET"]),
            Route("/v1/chat/completions", routes.chat_completions, methods=["POST"]),
            Route("/chat/completions", routes.chat_completions, methods=["POST"]),
            Route("/v1/messages", routes.messages, methods=["POST"]),
            Route("/v1/responses", routes.create_response, methods=["POST"]),
            Route("/responses", routes.create_response, methods=["POST"]),
            Route("/v1/responses/{response_id}", routes.get_response, methods=["GET"]),
            Route("/v1/responses/{response_id}", routes.delete_response, methods=["DELETE"]),
            # Anthropic clients that build URLs without /v1 (LiteLLM, DSPy), and count_tokens.
            Route("/messages", routes.messages, methods=["POST"]),
            Route("/models", routes.list_models, methods=["GET"]),
            Route("/models/{model_id:path}", routes.get_model, methods=["GET"]),
            Route("/v1/messages/count_tokens", routes.count_tokens, methods=["POST"]),
            Route("/messages/count_tokens", routes.count_tokens, methods=["POST"]),
            Route("/metrics", usage.metrics, methods=["GET"]),
            Route("/v1/claude-max/stats", usage.stats, methods=["GET"]),
            Route("/", usage.dashboard, methods=["GET"]),
            Route("/dashboard", usage.dashboard, methods=["GET"]),
            Route("/dashboard/{name}", usage.asset, methods=["GET"]),
        ],
        exception_handlers={
            ClaudeMaxError: errors.on_claude_max_error,
            HTTPException: errors.on_http_exception,
            Exception: errors.on_unexpected,
        },
        middleware=[
            Middleware(AccessLog),
            Middleware(Guard, settings=settings),
            Middleware(Observe),
            Middleware(EndWithClient),
        ],
        lifespan=lifespan,
    )
