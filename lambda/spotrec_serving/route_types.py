"""What one entry of the route table says: ``Param`` and ``Route``, and the JSON Schema helpers
the table's parameters use (``int_schema``, ``id_list_schema``).

The table itself, the ONE description of the API's routes, is routes.py. Stdlib only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter. ``schema`` is its JSON Schema (type, bounds, default) as the spec shows it;
    integer bounds are also what app.py enforces (``int_range``)."""

    name: str
    description: str
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})
    location: str = "query"  # "query" | "path"
    required: bool = False

    @property
    def int_range(self) -> tuple[int, int]:
        return self.schema["minimum"], self.schema["maximum"]

    @property
    def default(self) -> Any:
        return self.schema.get("default")


@dataclass(frozen=True, slots=True)
class Route:
    """One API route. ``path`` is in OpenAPI / API Gateway form (``/v1/tracks/{id}``); ``name``
    is the template's event id; ``responses`` maps a success status to (description, schema
    name in openapi_schemas.SCHEMAS); error responses are added from ``errors``."""

    name: str
    method: str
    path: str
    summary: str
    parameters: tuple[Param, ...] = ()
    response: tuple[str, str] = ("OK", "Object")
    errors: tuple[int, ...] = (400, 503)
    description: str = ""
    function: str = "ApiFunction"  # the template's function that serves it (its own role)
    request_body: str | None = None  # schema name in openapi_schemas.SCHEMAS of a JSON request body

    @property
    def resolver_path(self) -> str:
        """The path in powertools' form: ``/v1/tracks/<id>``."""
        return re.sub(r"\{(\w+)\}", r"<\1>", self.path)

    @property
    def pattern(self) -> re.Pattern[str]:
        """Matches the concrete paths of this route (a path parameter = one segment)."""
        regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(self.path))
        return re.compile(f"^{regex}$")

    def param(self, name: str) -> Param:
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        raise KeyError(f"route {self.name} has no parameter {name!r}")


def int_schema(low: int, high: int, default: int | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer", "minimum": low, "maximum": high}
    if default is not None:
        schema["default"] = default
    return schema


def id_list_schema(max_items: int) -> dict[str, Any]:
    return {
        "type": "string",
        "pattern": rf"^[0-9A-Za-z]{{22}}(,[0-9A-Za-z]{{22}}){{0,{max_items - 1}}}$",
    }
