"""The built-in tasks, by domain scene (kitchen, workshop, office, outdoor).

Importing this package registers every built-in task: each task module's class carries a
``@register_task`` decorator. The order of the imports below is the registration order, which
fixes the order of each sampling id's task list (so which task a seed draws): append new tasks
at the end, never reorder.
"""

# ruff: noqa: F401
from importlib import import_module

_TASK_MODULES = (
    "vla_bench.domains.kitchen.place_apple_in_basket",
    "vla_bench.domains.workshop.place_bolt_in_container",
    "vla_bench.domains.office.go_to_printer",
    "vla_bench.domains.outdoor.walk_to_tree",
    "vla_bench.domains.outdoor.go_around_box",
    "vla_bench.domains.outdoor.cross_terrain",
    "vla_bench.domains.outdoor.push_door_open",
    "vla_bench.domains.kitchen.open_fridge",
    "vla_bench.domains.workshop.tighten_bolt",
    "vla_bench.domains.workshop.hammer_nail",
    "vla_bench.domains.kitchen.pour_liquid",
    "vla_bench.domains.kitchen.cut_vegetable",
    "vla_bench.domains.office.pen_in_holder",
    "vla_bench.domains.office.sort_papers",
    "vla_bench.domains.office.retrieve_stapler",
    "vla_bench.domains.workshop.screw_into_hole",
    "vla_bench.domains.workshop.assemble_parts",
    "vla_bench.domains.kitchen.pick_and_place",
    "vla_bench.domains.workshop.stack_blocks",
    "vla_bench.domains.workshop.use_tool",
    "vla_bench.domains.outdoor.follow_person",
    "vla_bench.domains.office.find_object",
    "vla_bench.domains.outdoor.navigate_obstacles",
    "vla_bench.domains.office.go_to_location",
    "vla_bench.domains.kitchen.assist_person",
    "vla_bench.domains.workshop.collaborate_assembly",
    "vla_bench.domains.office.greet_person",
    "vla_bench.domains.office.guide_visitor",
)

for _module in _TASK_MODULES:
    import_module(_module)
