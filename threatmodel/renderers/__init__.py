"""Rendering: output formats registered in :mod:`.registry`, templates fed with plain data.

Renderers format; they never analyse. :mod:`threatmodel.core.escape` holds the escaping for every output
context, :mod:`.templates` the Jinja2 environment, :mod:`.jsonout` the JSON writers.
"""
