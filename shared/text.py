"""Text that comes from outside: what a single-line field and a multi-line text may hold, and JSON
read with a bound on its nesting.

A single-line field (a subject, a name, a tag) ends up in mail headers, CSV exports, log lines and
one-line widgets, where a line break, an escape sequence or a NUL is an injection or a crash, so
any control character is refused with a 422 naming the field. A multi-line text (a message body,
a signature) keeps its line breaks and tabs but may not carry NUL, which many stores and mail
programs cut at. Both say so in the JSON Schema (`pattern`), so the contract shows it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

# Regular-expression character classes, written so that Python and ECMAScript (JSON Schema) read
# them alike: C0 controls, DEL, C1 controls, and Unicode's line and paragraph separators.
CONTROL_CHARACTERS = r"\x00-\x1f\x7f-\x9f\u2028\u2029"
NUL = r"\x00"
_CONTROLS = re.compile(f"[{CONTROL_CHARACTERS}]")
MAX_JSON_DEPTH = 64  # no request of this API nests deeper than a handful of levels


def without_controls(value: str, instead: str = " ") -> str:
    """`value` with every control character and line separator replaced, one for one."""
    return _CONTROLS.sub(instead, value)


@dataclass(frozen=True)
class Refuses:
    """Annotation of a `str` field: refuses any character of `characters` (a character class)."""

    characters: str
    message: str

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        refused = re.compile(f"[{self.characters}]")

        def check(value: str) -> str:
            found = refused.search(value)
            if found is not None:
                raise PydanticCustomError(
                    "refused_character",
                    "{message} (found U+{code:04X})",
                    {"message": self.message, "code": ord(found.group())},
                )
            return value

        return core_schema.no_info_after_validator_function(check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema["pattern"] = f"^[^{self.characters}]*$"
        return json_schema


SingleLine = Annotated[
    str, Refuses(CONTROL_CHARACTERS, "must be one line without control characters")
]
MultiLine = Annotated[str, Refuses(NUL, "must not contain NUL characters")]


class JsonTooDeep(ValueError):
    def __init__(self) -> None:
        super().__init__(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")


def load_json(raw: str | bytes) -> Any:
    """The JSON document in `raw`; ValueError if it is none, or nests deeper than
    MAX_JSON_DEPTH (so a crafted document costs neither the stack nor a 5xx)."""
    try:
        document = json.loads(raw)
    except RecursionError:
        raise JsonTooDeep() from None
    if _deeper_than(document, MAX_JSON_DEPTH):
        raise JsonTooDeep()
    return document


def _deeper_than(document: Any, limit: int) -> bool:
    pending: list[tuple[Any, int]] = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            children = value.values() if isinstance(value, dict) else value
            pending.extend((child, depth + 1) for child in children)
    return False
