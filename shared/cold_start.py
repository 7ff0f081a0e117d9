"""What a Lambda function does around the imports of its cold start.

Python's cyclic garbage collector runs again and again while modules are imported, each time
scanning the growing heap of functions, classes and models the imports make, none of which is
garbage: about a fifth of an API function's import time. Each entry package pauses collection
before its first import, and each entry module, once imported, freezes what the imports made
(collections of the invocations never scan it again) and resumes collection.
"""

from __future__ import annotations

import gc


def pause_collection() -> None:
    gc.disable()


def resume_collection() -> None:
    gc.freeze()
    gc.enable()
