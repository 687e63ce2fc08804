"""Policy serving over openpi's websocket protocol (extra ``serve``).

``client``: the ``openpi`` policy, which drives a remote policy server (openpi's own, or
``vla-bench serve``). ``server``: serves any registered non-privileged vla_bench policy.
``codec``: the msgpack wire format both speak. Nothing here is imported by ``import vla_bench``.
"""
