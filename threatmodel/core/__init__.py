"""Safe input and output shared by every layer: located errors, YAML with marks, atomic files,
safe paths, escaping and where the bundled data lives. Imports nothing else of threatmodel."""
