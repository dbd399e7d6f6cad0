"""Fields sent as a number in one record and a string in the next, kept on the vectorized path.

Arrow cannot hold such a field in one column, so a page with one would go row by row. Instead
its values are settled in the parsed records before Arrow sees them, as dlt's normalizer
settles them (coercion.py): a value that fits the column's type, or coerces to it, stays; one
that does not moves to the variant key beside it (`value` -> `value__v_text`). Each such field
is found once per run (when a page first fails), then settled on every later page.
"""

from __future__ import annotations

from typing import Any, Iterator

from incident_assets.incident_api.coercion import ColumnTypes
from incident_assets.incident_api.flatten import Names

# a field's path from a record: keys, "[]" for the items of a list
Path = tuple[str, ...]
ITEMS = "[]"
SCALARS = (str, int, float, bool)


def mixed_paths(records: list[Any]) -> set[Path]:
    """Paths to object keys whose values are scalars of more than one type."""
    kinds: dict[Path, set[type]] = {}
    for record in records:
        collect(record, (), kinds)
    return {path for path, seen in kinds.items() if len(seen) > 1 and path and path[-1] != ITEMS}


def collect(value: Any, path: Path, kinds: dict[Path, set[type]]) -> None:
    if type(value) is dict:
        for key, item in value.items():
            collect(item, path + (key,), kinds)
    elif type(value) is list:
        for item in value:
            collect(item, path + (ITEMS,), kinds)
    elif value is not None:
        kinds.setdefault(path, set()).add(type(value) if type(value) in SCALARS else object)


def location(root: str, path: Path, names: Names) -> tuple[str, str]:
    """The table and column a path's values land in, named as the flatteners name them."""
    table, keys = root, []
    for step, following in zip(path, path[1:] + ("",)):
        if step == ITEMS:
            continue
        if following == ITEMS:
            table, keys = names.join(table, *keys, names.table_key(step)), []
        else:
            keys.append(names.key(step))
    return table, names.join(*keys)


def settle(records: list[Any], root: str, path: Path, names: Names, types: ColumnTypes) -> None:
    """The values at `path`, in record order, coerced or moved to their variant key."""
    table, column = location(root, path, names)
    key = path[-1]
    for parent in parents(records, path[:-1]):
        value = parent.get(key)
        if value is None or type(value) not in SCALARS:
            continue
        landed, coerced = types.coerce(table, column, value)
        if landed != column:
            # the variant key: a name no API key has, normalized to dlt's variant column name
            variant = f"{key}\x00{landed[len(column):]}"
            names.alias(variant, names.key(key) + landed[len(column):])
            del parent[key]
            parent[variant] = coerced
        elif type(coerced) in SCALARS and type(coerced) is not type(value):
            parent[key] = coerced


def parents(value: Any, path: Path) -> Iterator[dict[str, Any]]:
    """The objects at `path` under `value` (a list of records: under each), in order."""
    if type(value) is list:
        for item in value:
            yield from parents(item, path)
        return
    if type(value) is not dict:
        return
    if not path:
        yield value
        return
    step, rest = path[0], path[1:]
    if rest and rest[0] == ITEMS:
        items = value.get(step)
        for item in items if type(items) is list else ():
            yield from parents(item, rest[1:])
    else:
        yield from parents(value.get(step), rest)

