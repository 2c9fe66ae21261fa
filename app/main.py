"""Build the Layerlab app: settings, middleware, routers, templates and static files."""

from __future__ import annotations

import gc
import sys

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.formparsers import MultiPartParser

from layerlab.app import errors
from layerlab.app.assets import module_graph, warm
from layerlab.app.body_size import BodyLimit
from layerlab.app.cache import CacheHeaders
from layerlab.app.compress import Compress
from layerlab.app.config import Settings, from_environment, settings
from layerlab.app.deps import SettingsInEffect
from layerlab.app.inputs import UploadStore
from layerlab.app.jobs import Jobs
from layerlab.app.mathml import tex
from layerlab.app.memory import keep_freed_memory
from layerlab.app.pages import page_routers
from layerlab.app.routes import docs, images, kernels, lessons, pages
from layerlab.app.security import SecurityHeaders

SHARED_MODULES = ("classroom.js", "lesson-player.js")  # base.html loads them on every page


def create_app(config: Settings = settings) -> FastAPI:
    """A fresh app; tests build their own."""
    # /docs is our own server-rendered page: the stock one loads its assets from a CDN
    app = FastAPI(
        title="Layerlab",
        summary="Traces of neural-network operations, step by step.",
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = config
    keep_freed_memory()  # process-wide, set once
    sys.setswitchinterval(config.gil_switch_interval)  # process-wide too
    app.state.uploads = UploadStore(config.max_uploads_kept)
    app.state.jobs = Jobs.from_settings(config)
    templates = Jinja2Templates(directory=config.template_dir)
    templates.env.globals["tex"] = tex

    def module_preloads(*entries: str) -> list[str]:
        """The modules `entries` import, less those base.html's own scripts already preload."""
        graph = {url for entry in entries for url in module_graph(config.static_dir, entry)}
        if entries != SHARED_MODULES:
            graph -= set(module_preloads(*SHARED_MODULES))
        return sorted(graph)

    templates.env.globals["module_preloads"] = module_preloads
    templates.env.globals["shared_modules"] = SHARED_MODULES
    warm(config.plotly_js)
    app.state.templates = templates
    errors.install(app)
    app.add_middleware(Compress, inline_bytes=config.compress_inline_bytes)
    max_form_bytes = config.max_upload_bytes + config.max_form_overhead_bytes
    app.add_middleware(
        BodyLimit,
        max_bytes=max_form_bytes,
        max_json_bytes=config.max_json_bytes,
        max_query_bytes=config.max_query_bytes,
    )
    # outside gzip, so the ETag hashes the bytes actually sent; outside them, the security headers, so that
    # every answer (a 304, the body limit's 413 and 414) carries them
    app.add_middleware(CacheHeaders)
    app.add_middleware(SecurityHeaders, embed_origins=config.embed_origins)
    # outermost: everything inside, the routes' validation and handlers, reads this app's limits
    app.add_middleware(SettingsInEffect, config=config)
    # uploads never touch the disk: Starlette spools a file part to a temporary file past this size
    # (1 MiB by default), and no part can be larger than the body limit just set
    # (a model file, up to max_model_bytes, is read whole into memory the same way)
    model_form_bytes = config.max_model_bytes + config.max_form_overhead_bytes
    MultiPartParser.spool_max_size = max(MultiPartParser.spool_max_size, max_form_bytes, model_form_bytes)
    for router in (pages.router, docs.router, images.router, kernels.router, lessons.router, *page_routers()):
        app.include_router(router)
    errors.document(app)
    app.mount("/static", StaticFiles(directory=config.static_dir), name="static")
    return app


app = create_app(from_environment())  # `layerlab --embed-origin` reaches every worker this way
# Everything built so far (modules, the app, its routes, schemas and templates) lives as long as the process:
# moved out of the collector's sight, a full collection no longer scans it (75-270 ms on this machine, a
# stall of the event loop and of every request waiting on it, at every gen-2 collection)
gc.collect()
gc.freeze()
