"""What Python code and notebooks do, read with :mod:`ast` (never executed, never matched with
regular expressions over source text): the hub models they fetch (and whether with
``trust_remote_code``), the registry models they load, pickle-based loads, training and serving
code, LLM clients, retrievers, vector stores, tools and MCP servers, the files they read and
write, and strings that look like credentials (reported by kind and place, never copied).
"""

from __future__ import annotations

import ast
import json
import re
import sys
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Iterator

from threatmodel.discover.artifacts import model_format
from threatmodel.discover.pipelines import scripts_in
from threatmodel.discover.project import Inventory, K, MAX_CODE_BYTES, MAX_NOTEBOOK_BYTES, Thing, tables

HUB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)?")
MODEL_ARGUMENTS = ("pretrained_model_name_or_path", "repo_id", "model", "model_name", "model_name_or_path",
                   "model_id", "github", "repo_or_dir")
WRITE_WORDS = ("save", "dump", "write", "to_", "log_", "export", "upload", "push")
MAX_CELLS = 5_000
# a credential kept in a file in the user's home folder ("~/.bingimagessearchkey", "~/.aws/credentials")
_KEY_FILE = re.compile(r"~/\.[\w./-]*(key|token|secret|cred|credentials|pem|netrc|pgpass|aws|kaggle)[\w./-]*", re.I)


@dataclass
class Use:
    role: str
    row: dict[str, Any]
    name: str  # the resolved dotted name
    where: str
    node: ast.Call | None
    detail: str = ""  # the model or path named, a tool's name


@dataclass
class CodeFacts:
    rel: str
    uses: list[Use] = field(default_factory=list)
    imports: set[str] = field(default_factory=set)
    paths_read: list[tuple[str, str]] = field(default_factory=list)  # (path, where)
    paths_written: list[tuple[str, str]] = field(default_factory=list)
    credentials: list[tuple[str, str]] = field(default_factory=list)  # (what, where)
    key_files: list[tuple[str, str]] = field(default_factory=list)  # (~/.file, where): secrets outside the project

    def roles(self) -> set[str]:
        return {use.role for use in self.uses}


class _Matcher:
    def __init__(self) -> None:
        self.exact: dict[str, dict[str, Any]] = {}
        self.patterns: list[tuple[str, dict[str, Any]]] = []
        for row in tables()["calls"]:
            for name in row["names"]:
                if "*" in name:
                    self.patterns.append((name, row))
                else:
                    self.exact.setdefault(name, row)
        self.credentials = [(row["name"], re.compile(row["pattern"])) for row in tables()["credentials"]]
        self.any_credential = re.compile("|".join(f"(?:{row['pattern']})" for row in tables()["credentials"]))
        self.credential_names = re.compile(tables()["credential_names"])
        # `password = "…"` (or `token: "…"`): the same names, assigned a literal
        self.assigned_secret = re.compile(tables()["credential_names"].removesuffix("$") + r"\s*[:=]\s*['\"]")
        self.memo: dict[str, dict[str, Any] | None] = {}
        # a file that mentions none of these words holds no call the table knows: it is not parsed
        words = {name.split(".")[0].rstrip("*") for name in self.exact} | {
            p.split(".")[0].rstrip("*") for p, _ in self.patterns if not p.startswith("*")} | {
            p[2:].split(".")[0].rstrip("*") for p, _ in self.patterns if p.startswith("*.")}
        self.triggers = re.compile(r"\b(?:" + "|".join(sorted((re.escape(w) for w in words if w), key=len, reverse=True))
                                   + r")\b")

    def worth_parsing(self, text: str) -> bool:
        """Whether a file can hold anything the table knows (or a credential): only those are parsed."""
        return bool(self.triggers.search(text) or self.any_credential.search(text) or self.assigned_secret.search(text))

    def row(self, name: str) -> dict[str, Any] | None:
        if name in self.memo:
            return self.memo[name]
        found = self.exact.get(name)
        if found is None:
            for pattern, row in self.patterns:
                if pattern.startswith("*."):
                    if "." in name and name.endswith(pattern[1:]):
                        found = row
                        break
                elif fnmatchcase(name, pattern):
                    found = row
                    break
        self.memo[name] = found
        return found


_MATCHER: _Matcher | None = None


def _matcher() -> _Matcher:
    global _MATCHER
    if _MATCHER is None:
        _MATCHER = _Matcher()
    return _MATCHER


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Call):  # Client().method(): name the chain after the call
        inner = _dotted(node.func, aliases)
        if inner is None:
            return None
        return ".".join([inner, *reversed(parts)])
    if not isinstance(node, ast.Name):
        return None
    base = aliases.get(node.id, node.id)
    return ".".join([base, *reversed(parts)])


def _constant(node: ast.AST | None, strings: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name) and node.id in strings:
        return strings[node.id]
    return None  # an f-string, a call, an attribute: named at run time


def _keyword(call: ast.Call, name: str) -> ast.AST | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


def _true(node: ast.AST | None) -> bool | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        return node.value
    return None


def analyse(tree: ast.AST, rel: str, located: Any, facts: CodeFacts,
            scope: tuple[dict[str, str], dict[str, str]] | None = None) -> None:
    """Walk one module (or notebook cell); ``located(line)`` names the place of a line. A
    notebook's cells share one ``scope`` (imports and string constants), as its kernel does."""
    matcher = _matcher()
    aliases, strings = scope if scope is not None else ({}, {})
    nodes = list(ast.walk(tree))
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                aliases[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]
                facts.imports.add(alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            facts.imports.add(node.module.split(".")[0])
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            value = node.value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                strings[node.targets[0].id] = value.value
                if matcher.credential_names.search(node.targets[0].id) and _looks_secret(value.value):
                    facts.credentials.append((f"a literal value for '{node.targets[0].id}'", located(node.lineno)))
    for node in nodes:
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and _KEY_FILE.fullmatch(node.value):
            facts.key_files.append((node.value, located(node.lineno)))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and len(node.value) < 10_000 and \
                matcher.any_credential.search(node.value):
            for what, pattern in matcher.credentials:
                if pattern.search(node.value):
                    facts.credentials.append((f"a string that looks like {_article(what)} {what}", located(node.lineno)))
                    break
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                name = _dotted(target, aliases)
                row = matcher.row(name) if name else None
                if row and row["role"] in ("tool-function", "serving", "mcp-serve"):
                    facts.uses.append(Use(row["role"], row, name or "", located(node.lineno), None, node.name))
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func, aliases)
        if not name:
            continue
        row = matcher.row(name)
        where = located(node.lineno)
        for argument in [*node.args[:2], *(k.value for k in node.keywords if k.arg in ("path", "f", "filepath", "file"))]:
            text = _constant(argument, strings)
            if text and 0 < len(text) < 500 and not text.startswith(("http://", "https://", "s3://", "gs://")):
                written = any(word in name.rsplit(".", 1)[-1].lower() for word in WRITE_WORDS) or (
                    name.endswith("open") and _constant(node.args[1] if len(node.args) > 1 else _keyword(node, "mode"), {})
                    in ("w", "wb", "a", "ab", "x", "w+"))
                (facts.paths_written if written else facts.paths_read).append((text, where))
        for keyword in node.keywords:
            if keyword.arg in ("output_dir", "save_directory", "save_path"):
                text = _constant(keyword.value, strings)
                if text:
                    facts.paths_written.append((text, where))
        if row is None:
            continue
        role = row["role"]
        detail = ""
        if role == "hub-model":
            argument = node.args[0] if node.args else next((_keyword(node, k) for k in MODEL_ARGUMENTS if _keyword(node, k)), None)
            if name == "transformers.pipeline" and _keyword(node, "model") is not None:
                argument = _keyword(node, "model")
            elif name == "transformers.pipeline":
                argument = None  # the task's default model
            detail = _constant(argument, strings) or ""
        elif role == "unsafe-load":
            safe = row.get("safe_when") or {}
            unsafe = row.get("unsafe_when") or {}
            if any(_true(_keyword(node, key)) == value for key, value in safe.items()):
                continue
            if unsafe and not any(_true(_keyword(node, key)) == value for key, value in unsafe.items()) and not safe:
                continue
            detail = _constant(node.args[0] if node.args else None, strings) or ""
        elif role in ("registry-read", "registry-write"):
            detail = _constant(node.args[0] if node.args else _keyword(node, "model_uri"), strings) or ""
        elif role == "http-call":
            argument = node.args[0] if node.args else _keyword(node, "url")
            detail = _url_host(argument, strings)
            if not detail:
                continue
        elif role == "tool-function":
            detail = _constant(_keyword(node, "name"), strings) or ""
        elif role == "mcp-connect" and node.args and isinstance(node.args[0], ast.Dict):
            detail = ",".join(_mcp_entry(k.value, v) for k, v in zip(node.args[0].keys, node.args[0].values)
                              if isinstance(k, ast.Constant) and isinstance(k.value, str))
        use = Use(role, row, name, where, node, detail)
        facts.uses.append(use)


def _url_host(node: ast.AST | None, strings: dict[str, str]) -> str:
    """The host of a literal URL (or of an f-string's literal start): api.example.com."""
    text = _constant(node, strings)
    if text is None and isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
        text = str(node.values[0].value)
    match = re.match(r"https?://([A-Za-z0-9.-]+)", text or "")
    return match.group(1).lower() if match else ""


def _mcp_entry(name: str, value: ast.AST) -> str:
    """'name', 'name=script.py' (a server run from a project file) or 'name=@registry' (a package
    fetched and run by npx / uvx / pipx), from one entry of an MCP client's server table."""
    if not isinstance(value, ast.Dict):
        return name
    fields = {k.value: v for k, v in zip(value.keys, value.values) if isinstance(k, ast.Constant)}
    command = fields.get("command")
    words = [command.value] if isinstance(command, ast.Constant) and isinstance(command.value, str) else []
    arguments = fields.get("args")
    if isinstance(arguments, (ast.List, ast.Tuple)):
        words += [a.value for a in arguments.elts if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    script = next((w for w in words if w.endswith(".py")), "")
    if script:
        return f"{name}={script}"
    if words and words[0] in ("npx", "uvx", "pipx", "bunx", "docker"):
        return f"{name}=@registry"
    return name


def _article(noun: str) -> str:
    return "an" if noun[:1].upper() in "AEIOU" else "a"


def _looks_secret(value: str) -> bool:
    value = value.strip()
    if len(value) < 8 or " " in value or value.startswith(("$", "{", "<", "os.environ")):
        return False
    lowered = value.lower()
    return not any(word in lowered for word in ("example", "changeme", "your", "xxx", "placeholder", "dummy", "***"))


def read_python(inventory: Inventory, rel: str) -> CodeFacts | None:
    text = inventory.project.read_text(rel, MAX_CODE_BYTES)
    if text is None or not _matcher().worth_parsing(text):
        return None
    try:
        tree = ast.parse(text, filename=rel)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
        line = getattr(exc, "lineno", 0) or 0
        inventory.project.skip(f"{rel}:{line}" if line else rel, "not valid Python; not read")
        return None
    facts = CodeFacts(rel)
    try:
        analyse(tree, rel, lambda line: f"{rel}:{line}", facts)
    except RecursionError:
        inventory.project.skip(rel, "nested too deeply to read")
        return None
    return facts


def _cell_source(cell: Any) -> str:
    source = cell.get("source", "") if isinstance(cell, dict) else ""
    if isinstance(source, list):
        source = "".join(part for part in source if isinstance(part, str))
    return source if isinstance(source, str) else ""


def _without_magics(source: str) -> str | None:
    if source.lstrip().startswith("%%"):
        return None  # a cell magic (%%bash, %%sql): not Python
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        lines.append("" if stripped.startswith(("%", "!", "?")) or stripped.endswith("?") and
                     not stripped.startswith("#") and stripped[:-1].isidentifier() else line)
    return "\n".join(lines)


def _outputs_text(cell: dict[str, Any]) -> Iterator[str]:
    """The text a code cell printed: stream output and the plain-text form of results."""
    for output in cell.get("outputs") or []:
        if not isinstance(output, dict):
            continue
        data = output.get("data") if isinstance(output.get("data"), dict) else {}
        for value in (output.get("text"), data.get("text/plain")):
            if isinstance(value, list):
                yield "".join(v for v in value if isinstance(v, str))
            elif isinstance(value, str):
                yield value


def read_notebook(inventory: Inventory, rel: str) -> CodeFacts | None:
    text = inventory.project.read_text(rel, MAX_NOTEBOOK_BYTES)
    if text is None:
        return None
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        inventory.project.skip(rel, "named .ipynb but not a JSON notebook; not read")
        return None
    cells = document.get("cells") if isinstance(document, dict) else None
    if not isinstance(cells, list):
        inventory.project.skip(rel, "not a notebook (no 'cells' list); not read")
        return None
    facts = CodeFacts(rel)
    matcher = _matcher()
    scope: tuple[dict[str, str], dict[str, str]] = ({}, {})
    for number, cell in enumerate(cells[:MAX_CELLS], start=1):
        if not isinstance(cell, dict):
            continue
        if cell.get("cell_type") == "code":
            for output in _outputs_text(cell):
                for what, pattern in matcher.credentials:
                    if pattern.search(output[:1_000_000]):
                        facts.credentials.append((f"output that looks like {_article(what)} {what}", f"{rel} (cell {number}, output)"))
                        break
            source = _without_magics(_cell_source(cell))
            if not source or not source.strip():
                continue
            try:
                tree = ast.parse(source)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                inventory.project.skip(f"{rel} (cell {number})", "not valid Python; cell not read")
                continue
            try:
                analyse(tree, rel, lambda line, n=number: f"{rel} (cell {n}, line {line})", facts, scope)
            except RecursionError:
                continue
    if len(cells) > MAX_CELLS:
        inventory.project.skip(rel, f"more than {MAX_CELLS:,} cells; the rest not read")
    return facts


def read_code(inventory: Inventory) -> list[CodeFacts]:
    """Read every Python file and notebook; attach what each does to its component."""
    project = inventory.project
    read: list[CodeFacts] = []
    for rel in project.files:
        if rel.endswith(".py"):
            facts = read_python(inventory, rel)
        elif rel.endswith(".ipynb"):
            thing = inventory.add(f"nb:{rel}", K.notebook_file, f"Notebook {rel}", rel)
            inventory.set_paths(thing, [rel], keep=True)
            facts = read_notebook(inventory, rel)
        else:
            continue
        if facts is not None:
            read.append(facts)
    local_modules = {rel.split("/")[0].removesuffix(".py") for rel in project.files if rel.endswith(".py")} | {
        rel.rsplit("/", 1)[-1].removesuffix(".py") for rel in project.files if rel.endswith(".py")}
    for facts in read:
        facts.imports -= local_modules
        facts.imports = {name for name in facts.imports if name not in sys.stdlib_module_names and name != "__future__"}
        _attach(inventory, facts)
    return read


def owner_for(inventory: Inventory, facts: CodeFacts) -> Thing | None:
    """The component that runs this code: the notebook, the pipeline step that runs the script,
    or (when the code does something a threat cares about) a component for the script itself."""
    if facts.rel.endswith(".ipynb"):
        return inventory.things.get(f"nb:{facts.rel}")
    step = inventory.code_owner.get(facts.rel)
    if step and step in inventory.things:
        return inventory.things[step]
    roles = facts.roles()
    if not roles - {"web-content", "documents"} and not facts.credentials and not facts.key_files:
        return None
    writes_data = any((t := _project_thing(inventory, facts.rel, path)) is not None and t.kind == K.data
                      for path, _ in facts.paths_written)
    kind, why = _script_kind(roles, writes_data)
    thing = inventory.add(f"code:{facts.rel}", kind, f"{facts.rel}", facts.rel)
    thing.notes["kind"] = why
    thing.values.setdefault("description", f"The code in {facts.rel}")
    return thing


def _script_kind(roles: set[str], writes_data: bool = False) -> tuple[str, str]:
    if "mcp-serve" in roles:
        return K.mcp_server, "the script builds an MCP server"
    if "agent-loop" in roles:
        return K.agent_code, "the script builds an agent that calls tools"
    if "serving" in roles and not roles & {"chat-model", "agent-loop"}:
        return K.service, "the script builds a web service that answers requests"
    if "training" in roles:
        if "hub-model" in roles:
            return K.fine_tuning, "the script trains a model fetched from a hub"
        return K.training, "the script trains a model"
    if "chat-model" in roles:
        return "process", "the script calls an LLM (an application that orchestrates it)"
    if "http-call" in roles and writes_data:
        return K.collector, "the script fetches data from a service outside and stores it"
    return "process", "a script that loads or stores models"


def _attach(inventory: Inventory, facts: CodeFacts) -> None:
    owner = owner_for(inventory, facts)
    if owner is None:
        return
    if facts.imports:
        owner.facts.setdefault("imports", set()).update(facts.imports)
    if "serving" in facts.roles():
        owner.facts["serves"] = True
        if owner.kind != K.notebook_file:
            inventory.ask(f"Who can reach {owner.name}: the internet, or only the internal network? "
                          "(exposure: public or internal; authenticated: true when callers must sign in)", owner.key)
    for what, where in facts.credentials:
        secret = inventory.add(f"cred:{facts.rel}", K.credentials, f"Credentials written in {facts.rel}", where)
        inventory.set_paths(secret, [facts.rel], keep=True)
        secret.values.setdefault("description", "A credential written into the code or its output; rotate it "
                                                "and load it from a secret store")
        inventory.warn(where, f"{what} (not copied here); rotate it and keep it out of the repository")
        inventory.flow(secret.key, owner.key, "credential")
    for path, where in facts.key_files:
        secret = inventory.add(f"cred:{path}", K.credentials, f"Key file {path}", where)
        secret.values.setdefault("description", f"A credential the code reads from {path}, outside the project "
                                                "(a home-folder file, unencrypted unless the system says otherwise)")
        inventory.flow(secret.key, owner.key, "loads")
    rag = bool(facts.roles() & {"chat-model", "agent-loop", "retrieval", "vector-index"})
    for use in facts.uses:
        if use.role == "http-call" and not rag:
            service = inventory.add(f"ext:{use.detail}", K.outside_service, use.detail, use.where, third_party=True)
            service.note("origin", "third-party", f"called at {use.where}")
            inventory.flow(owner.key, service.key, "HTTPS request" if use.detail else "request", both_ways=True)
    uses = sorted(facts.uses, key=lambda u: u.role)
    vector = retriever = None
    for use in uses:
        handler = _HANDLERS.get(use.role)
        if handler is not None:
            made = handler(inventory, owner, use, facts)
            if use.role == "vector-index":
                vector = made
            elif use.role == "retrieval":
                retriever = made
    if vector is not None and retriever is not None:
        inventory.flow(vector.key, retriever.key, "similar documents")
        inventory.flows.pop((vector.key, owner.key), None)
    uploads = any(use.role == "uploads" for use in uses)
    for use in uses:
        if use.role == "documents" and uploads:
            continue  # the documents read are the ones users upload
        if use.role in ("web-content", "documents", "uploads", "http-call") and (
                vector or retriever or facts.roles() & {"chat-model", "agent-loop", "retrieval"}):
            source = _content_source(inventory, use)
            inventory.flow(source.key, (vector or owner).key, "indexed" if vector else "content")
    for path, where in facts.paths_read:
        thing = _project_thing(inventory, facts.rel, path)
        if thing is not None:
            thing.saw(where)
            inventory.flow(thing.key, owner.key, "reads")
    for path, where in facts.paths_written:
        thing = _project_thing(inventory, facts.rel, path)
        if thing is not None:
            thing.saw(where)
            inventory.flow(owner.key, thing.key, "writes")


def _project_thing(inventory: Inventory, rel: str, path: str) -> Thing | None:
    from threatmodel.discover.pipelines import _join

    if "\n" in path or path.startswith(("/", "~")):
        return None
    base = rel.rsplit("/", 1)[0] if "/" in rel else ""
    for candidate in (_join(base, path), _join("", path)):
        thing = inventory.covering(candidate)
        if thing is not None and thing.kind in (K.data, K.model_file):
            return thing
    return None


def _hub_model(inventory: Inventory, owner: Thing, use: Use, facts: CodeFacts) -> Thing | None:
    name = use.detail
    hub = use.row.get("hub", "a model hub")
    local = _project_thing(inventory, use.where.split(":")[0].split(" (")[0], name) if name else None
    written = {path.rstrip("/") for path, _ in facts.paths_written}
    if name and name.rstrip("/") in written:
        return None  # a folder this code saves a model to, loaded back: not a hub model
    if local is not None or (name and name.startswith((".", "/"))):
        if local is not None:
            inventory.flow(local.key, owner.key, "loads")
        return local
    call = use.node
    remote_code = bool(call is not None and _true(_keyword(call, "trust_remote_code")))
    if use.row.get("runs_code"):
        remote_code = True
    if name and HUB_ID.fullmatch(name):
        key, title = f"hub:{name}", f"{name} ({hub})"
    elif name:
        key, title = f"hub:{name}", f"{name} ({hub})"
    elif any(u.role == "hub-model" and u.detail for u in facts.uses):
        return None  # the same code names its model elsewhere: that one is recorded
    else:
        key, title = f"hub:{owner.key}", f"Model from {hub} loaded by {owner.name} (named at run time)"
        inventory.ask(f"Which model does {use.where} load from {hub}? The code names it at run time.")
    thing = inventory.add(key, K.hub_model, title, use.where, third_party=True)
    thing.values.setdefault("technology", f"{hub}: {name}" if name else hub)
    thing.note("origin", "third-party", f"fetched from {hub} at {use.where}")
    revision = _constant(_keyword(call, "revision"), {}) if call is not None else None
    if revision:
        thing.facts["revision"] = revision
    if remote_code:
        thing.facts["runs_remote_code"] = True
        why = ("torch.hub.load runs the repository's hubconf.py" if use.row.get("runs_code") else
               "trust_remote_code=True: loading runs the repository's Python code, whatever the weights' format")
        thing.values["format"] = "other"
        thing.notes["format"] = f"{why} ({use.where})"
        inventory.warn(use.where, f"{why}; pin a reviewed revision or drop the flag")
    elif call is not None and _true(_keyword(call, "use_safetensors")):
        thing.note("format", "safetensors", f"use_safetensors=True at {use.where}")
    inventory.flow(thing.key, owner.key, "model weights")
    return thing


def _registry(inventory: Inventory, owner: Thing, use: Use, facts: CodeFacts) -> Thing:
    registry = inventory.add("registry:mlflow", K.registry, "MLflow model registry", use.where)
    registry.values.setdefault("technology", "MLflow")
    uri = use.detail
    if use.role == "registry-read":
        inventory.flow(registry.key, owner.key, f"loads {uri}"[:80] if uri else "loads a model")
        if uri.startswith("models:/"):
            registry.facts.setdefault("loaded", set()).add(uri)
    else:
        inventory.flow(owner.key, registry.key, "logs a model")
    return registry


def _unsafe_load(inventory: Inventory, owner: Thing, use: Use, facts: CodeFacts) -> None:
    owner.facts.setdefault("unsafe_loads", []).append(use.where)
    target = _project_thing(inventory, use.where.split(":")[0].split(" (")[0], use.detail) if use.detail else None
    inventory.warn(use.where, f"{use.name}() can run code stored in the file it loads"
                   + (f" ({use.detail})" if use.detail else "")
                   + ("; pass weights_only=True" if use.name == "torch.load" else ""))
    if target is not None:
        inventory.flow(target.key, owner.key, "loads")


def _llm(inventory: Inventory, owner: Thing, use: Use, facts: CodeFacts) -> Thing:
    provider = use.row.get("provider", "LLM")
    self_hosted = "self-hosted" in provider
    embeddings = use.role == "embeddings"
    title = f"{provider} LLM" if self_hosted else f"{provider} API"
    thing = inventory.add(f"ai:{provider}", K.hosted_llm, title, use.where, third_party=not self_hosted)
    if not self_hosted:
        thing.note("origin", "third-party", f"a hosted API called at {use.where}")
    inventory.flow(owner.key, thing.key, "embeddings" if embeddings else "prompts and completions", both_ways=True)
    return thing


def _vector(inventory: Inventory, owner: Thing, use: Use, facts: CodeFacts) -> Thing:
    parts = use.name.split(".")
    name = next((part for part in reversed(parts) if part[:1].isupper()), parts[-1])
    thing = inventory.add(f"vector:{name}", K.vector_index, f"{name} vector store", use.where)
    inventory.flow(thing.key, owner.key, "similar documents")
    return thing


def _retriever(inventory: Inventory, owner: Thing, use: Use, facts: CodeFacts) -> Thing:
    thing = inventory.add(f"retr:{owner.key}", K.retrieval, f"Retriever of {owner.name}", use.where)
    inventory.flow(thing.key, owner.key, "retrieved context")
    return thing


def _content_source(inventory: Inventory, use: Use) -> Thing:
    if use.role in ("web-content", "http-call"):
        thing = inventory.add("source:web", K.documents, "Web pages the code fetches", use.where, third_party=True)
        thing.note("untrusted_content", True, f"web pages fetched at {use.where} are written by whoever runs the site")
        return thing
    if use.role == "uploads":
        thing = inventory.add(f"source:uploads:{use.where.split(':')[0]}", K.documents, "Files users upload", use.where)
        thing.note("untrusted_content", True, f"users choose what they upload ({use.where})")
        return thing
    thing = inventory.add(f"source:{use.name.rsplit('.', 1)[-1]}", K.documents,
                          f"Documents loaded with {use.name.rsplit('.', 1)[-1]}", use.where)
    inventory.ask(f"Who writes the documents {use.where} loads? (untrusted_content: true when outsiders can)")
    return thing


def _tool(inventory: Inventory, owner: Thing, use: Use, facts: CodeFacts) -> Thing:
    name = use.detail or use.name.rsplit(".", 1)[-1]
    thing = inventory.add(f"tool:{owner.key}:{name}", K.tool_function, f"Tool {name}", use.where)
    if use.role == "code-tool":
        thing.note("capabilities", ["execute"], f"{use.name.rsplit('.', 1)[-1]} runs code ({use.where})")
    inventory.flow(owner.key, thing.key, "tool calls and results", both_ways=True)
    return thing


def _mcp_client(inventory: Inventory, owner: Thing, use: Use, facts: CodeFacts) -> None:
    from threatmodel.discover.pipelines import _join

    base = facts.rel.rsplit("/", 1)[0] if "/" in facts.rel else ""
    for entry in [n for n in use.detail.split(",") if n] or ["server"]:
        name, _, source = entry.partition("=")
        script = _join(base, source) if source.endswith(".py") else ""
        if script and script in inventory.project.files:
            # the team's own server, run from a file of this project
            thing = inventory.add(f"code:{script}", K.mcp_server, script, use.where)
            thing.notes.setdefault("kind", f"the MCP server '{name}' the agent starts ({use.where})")
        else:
            thing = inventory.add(f"mcp:{name}", K.mcp_server, f"MCP server {name}", use.where,
                                  third_party=source == "@registry")
            if source == "@registry":
                thing.note("origin", "third-party", f"fetched from a package registry and run at start ({use.where})")
                thing.note("pinned", False, "started by package name, with no version pinned in the command")
            else:
                inventory.ask(f"Who wrote and runs the MCP server '{name}' ({use.where}): the team, or a third party?")
        inventory.flow(owner.key, thing.key, "tool calls and results", both_ways=True)


def _memory(inventory: Inventory, owner: Thing, use: Use, facts: CodeFacts) -> Thing:
    thing = inventory.add(f"memory:{owner.key}", K.memory, f"Conversation memory of {owner.name}", use.where)
    inventory.flow(owner.key, thing.key, "conversation history", both_ways=True)
    return thing


def _mark(role: str) -> Any:
    def handler(inventory: Inventory, owner: Thing, use: Use, facts: CodeFacts) -> None:
        owner.facts.setdefault("roles", set()).add(role)
    return handler


_HANDLERS: dict[str, Any] = {
    "hub-model": _hub_model, "registry-read": _registry, "registry-write": _registry, "unsafe-load": _unsafe_load,
    "chat-model": _llm, "embeddings": _llm, "vector-index": _vector, "retrieval": _retriever, "tool-function": _tool,
    "code-tool": _tool, "mcp-connect": _mcp_client, "memory": _memory, "training": _mark("training"), "serving": _mark("serving"),
}

__all__ = ["read_code", "scripts_in", "model_format"]
