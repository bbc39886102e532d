"""YAML with line numbers, so that every mistake can name its line."""

from __future__ import annotations

import re

import yaml


class LineMap(dict):
    """A mapping with its line and the line of each key."""

    line = 0
    lines: dict


class LineList(list):
    """A list with its line and the line of each item."""

    line = 0
    lines: list


# libyaml's parser, when PyYAML was built with it, is ten times faster to start.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Loader(_SafeLoader):
    """SafeLoader that keeps line numbers, reports duplicate keys and reads
    only `true`/`false` as booleans (YAML 1.1 would turn `no` and `on` into
    booleans, silently breaking option values and the `on:` trigger key)."""

    def __init__(self, stream):
        super().__init__(stream)
        self.source = stream
        self.duplicates: list[tuple[int, str]] = []

    def construct_object(self, node, deep=False):
        """Refuse aliases (`*name`, and so `<<: *name`): a node constructed twice was
        reached through one. Expanding them would let a small file (a "billion
        laughs") grow to gigabytes, and a questionnaire has no need for them."""
        if node in self.constructed_objects or node in self.recursive_objects:
            raise yaml.constructor.ConstructorError(
                None, None, "aliases are not allowed", self._first_alias_mark(node)
            )
        return super().construct_object(node, deep)

    def _first_alias_mark(self, node):
        """Where the first alias is written (the composed node only knows its anchor)."""
        try:
            for event in yaml.parse(self.source, Loader=_SafeLoader):
                if isinstance(event, yaml.AliasEvent):
                    return event.start_mark
        except yaml.YAMLError:
            pass
        return node.start_mark


Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _construct_map(loader: Loader, node):
    mapping = LineMap()
    mapping.line = node.start_mark.line + 1
    mapping.lines = {}
    for key_node, value_node in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            if value_node in loader.constructed_objects:
                loader.construct_object(value_node)  # `<<: *name`: refused as an alias
            raise yaml.constructor.ConstructorError(
                None, None, "merge keys (<<) are not allowed", key_node.start_mark
            )
        if not isinstance(key_node, yaml.ScalarNode):
            raise yaml.constructor.ConstructorError(
                None,
                None,
                "a key must be a name or a number, not a list or mapping",
                key_node.start_mark,
            )
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        if key in mapping:
            loader.duplicates.append((line, str(key)))
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.lines[key] = line
    return mapping


def _construct_list(loader: Loader, node):
    items = LineList(loader.construct_object(child, deep=True) for child in node.value)
    items.line = node.start_mark.line + 1
    items.lines = [child.start_mark.line + 1 for child in node.value]
    return items


Loader.add_constructor("tag:yaml.org,2002:map", _construct_map)
Loader.add_constructor("tag:yaml.org,2002:seq", _construct_list)


def line_of(data, key) -> int:
    """The line of `key` in a mapping read by Loader, else of the value itself."""
    lines = getattr(data, "lines", None)
    if isinstance(lines, dict):
        return lines.get(key, getattr(data, "line", 0))
    return getattr(data, "line", 0)
