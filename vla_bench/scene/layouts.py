"""Domain name → layout class (imported lazily)."""

from __future__ import annotations

import importlib

from vla_bench.errors import UnknownNameError
from vla_bench.scene.layout import Layout

LAYOUTS = {
    "kitchen": "vla_bench.domains.kitchen.layout:KitchenLayout",
    "workshop": "vla_bench.domains.workshop.layout:WorkshopLayout",
    "office": "vla_bench.domains.office.layout:OfficeLayout",
    "outdoor": "vla_bench.domains.outdoor.layout:OutdoorLayout",
}


def make_layout(domain: str) -> Layout:
    """A fresh layout for ``domain``."""
    if domain not in LAYOUTS:
        raise UnknownNameError("domain", domain, LAYOUTS)
    module, _, attr = LAYOUTS[domain].partition(":")
    return getattr(importlib.import_module(module), attr)()
