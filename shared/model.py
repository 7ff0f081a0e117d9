"""The base of every pydantic model of the project.

Models are built on first use, not at import: a function's cold start then builds only the models
its invocation touches (building one costs about a millisecond, and the first one of a process
about 25 ms more), instead of every model its modules declare.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    model_config = ConfigDict(defer_build=True)
