#!/usr/bin/env python3
"""kaon-model-worker: runs one catalog model for kaon (docs/models.md).

kaon writes this file to DATA/libexec/kaon-model-worker when the daemon
starts (src/server/libexec.c) and runs it as the model owner's account:

    kaon-model-worker describe DIR
    kaon-model-worker validate DIR --kind predict|train --args FILE.json
    kaon-model-worker serve DIR --socket PATH
    kaon-model-worker train DIR --args FILE.json --out OUTDIR

DIR is a model folder with a kaon-model.json manifest. Its runtime is
either a Python module with DEEPaaS's module interface (get_metadata,
get_predict_args, predict, get_train_args, train, warm; "module" or
"module:Class"), imported with DIR on sys.path, or an executable speaking
the line protocol below on its stdin and stdout ("exec").

Arguments are handled as DEEPaaS (webargs over marshmallow) handles them:
the module's fields become Swagger 2.0 parameter objects (describe), and a
request's values (strings from a query or form, lists of them, or JSON
values) are loaded with a marshmallow schema made from the same fields,
so types are converted, defaults filled, required fields and validators
checked, and a failure is 422 {field: [messages]}. For an exec runtime
the fields are made from the manifest's parameter objects.

serve: one JSON object a line each way over a unix socket (mode 0600),
one connection and one request at a time:

    -> {"op": "predict", "args": {...}, "files": {name: [{"path",
        "filename", "content_type"}]}, "accept": "image/png" | null}
    <- {"status": 200, "content_type": "application/json", "json": VALUE}
    <- {"status": 200, "content_type": "image/png", "path": "/tmp/..."}
    <- {"status": 422, "content_type": "application/json", "json": {...}}
    <- {"status": 400|415|500|501, "message": "..."}
    -> {"op": "ping"}  <- {"status": 200}

The model's own output (print, warnings) goes to stderr, the worker's log:
stdout carries only describe's and validate's JSON and serve's `ready`.

Only the standard library and marshmallow are needed (the module itself
usually imports webargs too). When this Python cannot import marshmallow
the worker runs itself again once with Debian's /usr/bin/python3.
"""

import argparse
import collections
import datetime
import decimal
import importlib
import io
import json
import math
import mimetypes
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import traceback
import uuid
import warnings

REEXEC_MARK = "KAON_MODEL_WORKER_REEXEC"
SYSTEM_PYTHON = "/usr/bin/python3"

try:
    import marshmallow
    from marshmallow import fields as mfields
    from marshmallow import validate as mvalidate
except ImportError as import_error:  # pragma: no cover - depends on the host
    if (not os.environ.get(REEXEC_MARK) and os.access(SYSTEM_PYTHON, os.X_OK)
            and os.path.realpath(sys.executable)
            != os.path.realpath(SYSTEM_PYTHON)):
        os.environ[REEXEC_MARK] = "1"
        os.execv(SYSTEM_PYTHON,
                 [SYSTEM_PYTHON, os.path.abspath(__file__)] + sys.argv[1:])
    sys.stderr.write("kaon-model-worker: %s cannot import marshmallow (%s): "
                     "install python3-marshmallow\n"
                     % (sys.executable, import_error))
    sys.exit(3)

# DEEPaaS modules declare fields with extra keyword arguments
# (description=..., location=...), which marshmallow 3 keeps as metadata
# with a deprecation warning on every import: noise in every worker log.
warnings.filterwarnings("ignore", message=".*Passing field metadata as keyword")
warnings.filterwarnings("ignore", message=".*The 'missing' (argument|attribute)")

# What DEEPaaS hands a module for an uploaded file (its wrapper's namedtuple).
UploadedFile = collections.namedtuple(
    "UploadedFile", ("name", "filename", "content_type", "original_filename"))

JSON_TYPES = ("application/json", "*/*")
MAX_LINE = 16 << 20  # a request line; files travel as paths, not in lines
PARAM_TYPES = ("string", "integer", "number", "boolean", "file", "array",
               "object")
PARAM_IN = ("query", "formData", "header", "body")
# Metadata keys copied into a parameter object as they are (apispec copies
# the valid Swagger schema properties and x-*).
PARAM_META_KEYS = ("description", "enum", "type", "format", "example",
                   "pattern", "title")


class Fail(Exception):
    """An answer other than 200: status and message (or a JSON body)."""

    def __init__(self, status, message, body=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.body = body

    def answer(self):
        if self.body is not None:
            return {"status": self.status, "content_type": "application/json",
                    "json": self.body}
        return {"status": self.status, "message": self.message}


def die(message, status=1):
    sys.stderr.write("kaon-model-worker: %s\n" % message)
    sys.stderr.flush()
    sys.exit(status)


# ---- JSON ---------------------------------------------------------------------

def _json_default(o):
    # numpy arrays and scalars, torch tensors: what models return most.
    if hasattr(o, "tolist") and callable(o.tolist):
        return o.tolist()
    if isinstance(o, (datetime.datetime, datetime.date, datetime.time)):
        return o.isoformat()
    if isinstance(o, uuid.UUID):
        return str(o)
    if isinstance(o, decimal.Decimal):
        return float(o)
    if isinstance(o, (set, frozenset)):
        return list(o)
    raise TypeError("%s is not JSON serialisable" % type(o).__name__)


def _finite(o):
    """o with NaN and infinities as null: JSON has no such numbers."""
    if isinstance(o, float):
        return o if math.isfinite(o) else None
    if isinstance(o, dict):
        return {k: _finite(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_finite(v) for v in o]
    return o


def to_json(value):
    """value as one line of JSON; TypeError when it has no JSON form."""
    try:
        return json.dumps(value, default=_json_default, allow_nan=False,
                          separators=(",", ":"))
    except ValueError:
        # Out-of-range floats: convert (numpy included) and clean up.
        plain = json.loads(json.dumps(value, default=_json_default))
        return json.dumps(_finite(plain), allow_nan=False,
                          separators=(",", ":"))


def error_messages(err):
    """A ValidationError's messages as {field: [messages]} with string keys."""
    def clean(m):
        if isinstance(m, dict):
            return {str(k): clean(v) for k, v in m.items()}
        if isinstance(m, (list, tuple)):
            return [clean(v) for v in m]
        return str(m)
    messages = err.messages
    if not isinstance(messages, dict):
        messages = {"_schema": messages}
    return clean(messages)


# ---- manifest -------------------------------------------------------------------

def read_manifest(model_dir):
    path = os.path.join(model_dir, "kaon-model.json")
    try:
        with open(path, encoding="utf-8") as f:
            manifest = json.load(f)
    except (OSError, ValueError) as e:
        die("cannot read %s: %s" % (path, e))
    if not isinstance(manifest, dict):
        die("%s: not a JSON object" % path)
    runtime = manifest.get("runtime")
    if not isinstance(runtime, dict) or runtime.get("type") not in (
            "python", "exec"):
        die('%s: "runtime" must be {"type": "python", "module": ...} or '
            '{"type": "exec", "command": [...]}' % path)
    return manifest


def manifest_metadata(manifest):
    """The manifest's descriptive fields, for a module without get_metadata."""
    keys = ("name", "version", "title", "summary", "description", "keywords",
            "license", "authors", "url")
    meta = {k: manifest[k] for k in keys if k in manifest}
    if isinstance(manifest.get("authors"), list):
        meta["author"] = ", ".join(str(a) for a in manifest["authors"])
    return meta


# ---- fields -> Swagger 2.0 parameter objects -------------------------------------

# Most specific class first: Email and Url are Strings, Integer a Number.
FIELD_TYPES = (
    (mfields.Integer, "integer", "int32"),
    (mfields.Float, "number", "float"),
    (mfields.Decimal, "number", None),
    (mfields.Number, "number", None),
    (mfields.Boolean, "boolean", None),
    (mfields.UUID, "string", "uuid"),
    (mfields.DateTime, "string", "date-time"),
    (mfields.Date, "string", "date"),
    (mfields.Time, "string", None),
    (mfields.Email, "string", "email"),
    (mfields.Url, "string", "url"),
    (mfields.IPv4, "string", "ipv4"),
    (mfields.IPv6, "string", "ipv6"),
    (mfields.IP, "string", "ip"),
    (mfields.String, "string", None),
    (mfields.Mapping, "object", None),
    (mfields.List, "array", None),
    (mfields.Tuple, "array", None),
    (mfields.Nested, "object", None),
)


def is_list(field):
    return isinstance(field, (mfields.List, mfields.Tuple))


def is_delimited(field):
    # webargs' DelimitedList/DelimitedTuple take one "a,b,c" string.
    return hasattr(field, "delimiter") and hasattr(field, "is_multiple")


def is_file(field):
    if field.metadata.get("type") == "file":
        return True
    return isinstance(field, mfields.List) and is_file(field.inner)


def field_location(field):
    """Where a field's value comes from, as a Swagger "in"."""
    if is_file(field):
        return "formData"  # a file can only come in a multipart body
    loc = field.metadata.get("location")
    if loc in ("form", "files", "formData"):
        return "formData"
    if loc in ("headers", "header"):
        return "header"
    if loc in ("json", "body"):
        return "body"
    return "query"


def _plain(value):
    """A default or choice as JSON, or None when it has no JSON form."""
    try:
        return json.loads(to_json(value))
    except (TypeError, ValueError):
        return None


def field_properties(field):
    """The Swagger schema properties of one field (no name, in, required)."""
    prop = {}
    for cls, typ, fmt in FIELD_TYPES:
        if isinstance(field, cls):
            prop["type"] = typ
            if fmt:
                prop["format"] = fmt
            break
    if isinstance(field, mfields.List):
        prop["items"] = field_properties(field.inner)
        if not is_delimited(field):
            prop["collectionFormat"] = "multi"
        else:
            prop["collectionFormat"] = "csv"
    elif isinstance(field, mfields.Nested):
        try:
            prop.update(schema_properties(field.schema))
        except Exception:  # a nested schema we cannot walk: a bare object
            pass
    default = field.load_default
    if default is not marshmallow.missing and not callable(default):
        try:
            serialised = field._serialize(default, None, None)
        except Exception:
            serialised = default
        serialised = _plain(serialised)
        if serialised is not None:
            prop["default"] = serialised
    for v in field.validators:
        if isinstance(v, mvalidate.OneOf):
            prop["enum"] = [_plain(c) for c in v.choices]
        elif isinstance(v, mvalidate.Range):
            if v.min is not None:
                prop["minimum"] = _plain(v.min)
                if not v.min_inclusive:
                    prop["exclusiveMinimum"] = True
            if v.max is not None:
                prop["maximum"] = _plain(v.max)
                if not v.max_inclusive:
                    prop["exclusiveMaximum"] = True
        elif isinstance(v, mvalidate.Length):
            lo = v.equal if v.equal is not None else v.min
            hi = v.equal if v.equal is not None else v.max
            arr = prop.get("type") == "array"
            if lo is not None:
                prop["minItems" if arr else "minLength"] = lo
            if hi is not None:
                prop["maxItems" if arr else "maxLength"] = hi
        elif isinstance(v, mvalidate.Regexp):
            prop["pattern"] = v.regex.pattern
    for key, value in field.metadata.items():
        if key in PARAM_META_KEYS or key.startswith("x-"):
            plain = _plain(value)
            if plain is not None:
                prop[key] = plain
    return prop


def field_param(name, field):
    """The Swagger 2.0 parameter object of one argument."""
    param = {"name": field.data_key or name, "in": field_location(field),
             "required": bool(field.required)}
    param.update(field_properties(field))
    if is_file(field) and not isinstance(field, mfields.List):
        param["type"] = "file"
        param.pop("format", None)
    return param


def schema_properties(schema):
    """A marshmallow schema (class, instance or dict of fields) as a Swagger
    object schema."""
    if isinstance(schema, dict):
        schema = marshmallow.Schema.from_dict(schema)
    if isinstance(schema, type):
        schema = schema()
    props, required = {}, []
    for name, field in schema.fields.items():
        key = field.data_key or name
        props[key] = field_properties(field)
        if field.required:
            required.append(key)
    out = {"type": "object", "properties": props}
    if required:
        out["required"] = required
    return out


# ---- Swagger 2.0 parameter objects -> fields (exec runtime) ---------------------

def param_field(param, where):
    """A marshmallow field from a manifest parameter object."""
    if not isinstance(param, dict) or not isinstance(param.get("name"), str) \
            or not param["name"]:
        raise ValueError("%s: every parameter needs a \"name\"" % where)
    name = param["name"]
    typ = param.get("type")
    if typ is not None and typ not in PARAM_TYPES:
        raise ValueError("%s: %s: unknown type %r" % (where, name, typ))
    if param.get("in", "query") not in PARAM_IN:
        raise ValueError("%s: %s: \"in\" must be one of %s"
                         % (where, name, ", ".join(PARAM_IN)))
    kwargs = {"required": bool(param.get("required", False))}
    if "default" in param:
        kwargs["load_default"] = param["default"]
    validators = []
    if "enum" in param:
        validators.append(mvalidate.OneOf(param["enum"]))
    if "minimum" in param or "maximum" in param:
        validators.append(mvalidate.Range(
            min=param.get("minimum"), max=param.get("maximum"),
            min_inclusive=not param.get("exclusiveMinimum", False),
            max_inclusive=not param.get("exclusiveMaximum", False)))
    if "minLength" in param or "maxLength" in param:
        validators.append(mvalidate.Length(min=param.get("minLength"),
                                           max=param.get("maxLength")))
    if "pattern" in param:
        validators.append(mvalidate.Regexp(param["pattern"]))
    kwargs["validate"] = validators
    meta = {k: param[k] for k in param
            if k in ("description", "format", "example") or k.startswith("x-")}
    meta["location"] = {"formData": "form", "header": "headers",
                        "body": "json"}.get(param.get("in"), "query")
    if typ == "file":
        meta["type"] = "file"
    kwargs["metadata"] = meta
    fmt = param.get("format")
    if typ == "integer":
        return mfields.Integer(**kwargs)
    if typ == "number":
        return mfields.Float(**kwargs)
    if typ == "boolean":
        return mfields.Boolean(**kwargs)
    if typ == "string":
        if fmt == "email":
            return mfields.Email(**kwargs)
        if fmt == "url":
            return mfields.Url(**kwargs)
        return mfields.String(**kwargs)
    if typ == "object":
        return mfields.Dict(**kwargs)
    if typ == "array":
        items = dict(param.get("items") or {})
        items["name"] = name
        items.pop("default", None)
        items.pop("in", None)
        inner = param_field(items, where)
        return mfields.List(inner, **kwargs)
    return mfields.Raw(**kwargs)


def params_fields(params, where):
    if params is None:
        return {}
    if not isinstance(params, list):
        raise ValueError("%s must be a list of parameter objects" % where)
    out = {}
    for p in params:
        out[p.get("name") if isinstance(p, dict) else None] = \
            param_field(p, where)
    return out


# ---- accept ---------------------------------------------------------------------

def setup_accept(fields):
    """DEEPaaS's treatment of a predict argument named accept with a OneOf:
    "*/*" joins the choices and the first declared choice is the default.
    Returns the choices ([] when there is no such argument)."""
    field = fields.get("accept")
    if field is None:
        return []
    for i, v in enumerate(field.validators):
        if isinstance(v, mvalidate.OneOf):
            choices = [c for c in v.choices]
            if "*/*" not in choices:
                choices.append("*/*")
            field.validators[i] = mvalidate.OneOf(choices)
            field.load_default = choices[0]
            field.required = False
            return choices
    return []


def negotiate(header, choices):
    """The choice an HTTP Accept header prefers, or the header itself when
    it names none of them (validation then answers 422 as DEEPaaS does)."""
    if header in choices:
        return header
    ranges = []
    for n, part in enumerate(header.split(",")):
        bits = [b.strip() for b in part.split(";")]
        if not bits[0]:
            continue
        q = 1.0
        for b in bits[1:]:
            if b.startswith("q="):
                try:
                    q = float(b[2:])
                except ValueError:
                    q = 0.0
        ranges.append((bits[0].lower(), q, n))
    best, best_key = None, None
    for ci, choice in enumerate(choices):
        if choice == "*/*":
            continue
        ctype = choice.lower()
        for rng, q, n in ranges:
            if q <= 0:
                continue
            major = rng.split("/")[0]
            if rng == ctype or rng == "*/*" or (
                    rng.endswith("/*") and ctype.split("/")[0] == major):
                # Exact ranges beat wildcards, then q, then our order.
                key = (q, rng != "*/*", not rng.endswith("/*"), -ci)
                if best_key is None or key > best_key:
                    best, best_key = choice, key
    return best if best is not None else header


# ---- parsing a request's arguments ------------------------------------------------

def uploaded(name, item):
    if not isinstance(item, dict) or not isinstance(item.get("path"), str):
        raise Fail(400, "files.%s: each file must be {\"path\", \"filename\", "
                   "\"content_type\"}" % name)
    return UploadedFile(name=name, filename=item["path"],
                        content_type=item.get("content_type")
                        or "application/octet-stream",
                        original_filename=item.get("filename") or "")


class Arguments:
    """The arguments of predict or train: marshmallow fields by name."""

    def __init__(self, fields):
        self.fields = fields
        self.schema = marshmallow.Schema.from_dict(fields)(
            unknown=marshmallow.EXCLUDE)

    def params(self):
        return [field_param(name, f) for name, f in self.fields.items()]

    def parse(self, args, files, header_accept=None):
        """The loaded arguments, or Fail(422, ..., {field: [messages]})."""
        if args is None:
            args = {}
        if files is None:
            files = {}
        if not isinstance(args, dict) or not isinstance(files, dict):
            raise Fail(400, "\"args\" and \"files\" must be JSON objects")
        data = {}
        for name, field in self.fields.items():
            key = field.data_key or name
            if is_file(field):
                items = files.get(key)
                if items is None:
                    continue
                if not isinstance(items, list):
                    items = [items]
                ups = [uploaded(key, it) for it in items]
                if ups:
                    data[key] = ups if isinstance(field, mfields.List) \
                        else ups[0]
                continue
            if key in args:
                value = args[key]
            elif name == "accept" and header_accept is not None:
                value = header_accept
            else:
                continue
            if isinstance(field, mfields.List) and not is_delimited(field):
                if not isinstance(value, list):
                    value = [value]
            elif (isinstance(value, list) and value
                  and not is_list(field) and not is_delimited(field)
                  and not isinstance(field, (mfields.Raw, mfields.Mapping))
                  and all(isinstance(v, str) for v in value)):
                # A key repeated in a query or form: the first one, as
                # webargs reads a single-valued field from a multidict.
                value = value[0]
            if name == "accept" and isinstance(value, str):
                for v in field.validators:
                    if isinstance(v, mvalidate.OneOf):
                        value = negotiate(value, list(v.choices))
            data[key] = value
        try:
            return self.schema.load(data)
        except marshmallow.ValidationError as e:
            raise Fail(422, "invalid arguments", error_messages(e))


def jsonable_args(parsed):
    """Parsed arguments as JSON: an uploaded file as DEEPaaS records it,
    [field name, content type, original file name]."""
    out = {}
    for k, v in parsed.items():
        if isinstance(v, UploadedFile):
            out[k] = [v.name, v.content_type, v.original_filename]
        elif isinstance(v, list) and v and isinstance(v[0], UploadedFile):
            out[k] = [[u.name, u.content_type, u.original_filename] for u in v]
        else:
            out[k] = v
    return json.loads(to_json(out))


def read_request_file(path):
    """An --args file: a request {"args": {...}, "files": {...}} or a plain
    object of arguments."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        die("cannot read %s: %s" % (path, e), 2)
    if not isinstance(doc, dict):
        die("%s: not a JSON object" % path, 2)
    if isinstance(doc.get("args"), dict) and set(doc) <= {
            "op", "args", "files", "accept"}:
        return doc.get("args"), doc.get("files"), doc.get("accept")
    return doc, None, None


# ---- temp files for binary answers ------------------------------------------------

class TempDir:
    """Where binary answers go: $KAON_WORKER_TMPDIR when kaon names one,
    else a private folder of our own (0700) removed at exit."""

    def __init__(self):
        self.path = None
        self.ours = False

    def get(self):
        if self.path is None:
            given = os.environ.get("KAON_WORKER_TMPDIR")
            if given:
                os.makedirs(given, mode=0o700, exist_ok=True)
                self.path = os.path.realpath(given)
            else:
                self.path = os.path.realpath(
                    tempfile.mkdtemp(prefix="kaon-model-worker."))
                self.ours = True
            os.environ["KAON_WORKER_TMPDIR"] = self.path
        return self.path

    def write(self, content_type, source):
        """A new file holding source (bytes or a binary file object)."""
        ext = mimetypes.guess_extension(content_type.split(";")[0].strip()) \
            or ".bin"
        fd, path = tempfile.mkstemp(dir=self.get(), suffix=ext)
        with os.fdopen(fd, "wb") as out:
            if isinstance(source, (bytes, bytearray, memoryview)):
                out.write(source)
            else:
                shutil.copyfileobj(source, out)
        return path

    def owns(self, path):
        real = os.path.realpath(path)
        return (os.path.dirname(real) == self.get()
                and stat.S_ISREG(os.lstat(real).st_mode))

    def cleanup(self):
        if self.ours and self.path:
            shutil.rmtree(self.path, ignore_errors=True)


TEMP = TempDir()


# ---- output discipline ------------------------------------------------------------

class Stdout:
    """The real stdout, kept for our answers; fd 1 is pointed at stderr so
    that whatever a model prints (Python or C) lands in the log."""

    def __init__(self):
        sys.stdout.flush()
        self.fd = os.dup(1)
        os.dup2(2, 1)
        sys.stdout = sys.stderr

    def line(self, text):
        data = (text + "\n").encode("utf-8")
        while data:
            n = os.write(self.fd, data)
            data = data[n:]


# ---- models -----------------------------------------------------------------------

class Model:
    """What both runtimes offer the modes."""

    def __init__(self, model_dir, manifest):
        self.dir = model_dir
        self.manifest = manifest
        self.name = manifest.get("name") or os.path.basename(model_dir)


class PythonModel(Model):
    """A module (or module:Class) with DEEPaaS's module interface."""

    def __init__(self, model_dir, manifest):
        super().__init__(model_dir, manifest)
        spec = manifest["runtime"].get("module")
        if not isinstance(spec, str) or not spec:
            die('kaon-model.json: a python runtime needs "module": '
                '"package.module" or "package.module:Class"')
        if model_dir not in sys.path:
            sys.path.insert(0, model_dir)
        modname, _, clsname = spec.partition(":")
        try:
            module = importlib.import_module(modname)
            self.obj = getattr(module, clsname)() if clsname else module
        except Exception as e:
            traceback.print_exc()
            die("cannot load %s from %s: %s: %s"
                % (spec, model_dir, type(e).__name__, e))
        self.response_schema = None
        schema = getattr(self.obj, "schema", None)
        if schema is not None:
            if isinstance(schema, dict):
                schema = marshmallow.Schema.from_dict(schema)
            if not (isinstance(schema, type)
                    and issubclass(schema, marshmallow.Schema)):
                die("%s: `schema` must be None, a dict of fields or a "
                    "marshmallow Schema class, not %r" % (spec, schema))
            self.response_schema = schema
        self.predict_args = Arguments(self._fields("get_predict_args"))
        self.accept = setup_accept(self.predict_args.fields)
        if self.accept:  # its default and choices changed
            self.predict_args = Arguments(self.predict_args.fields)
        self.train_args = Arguments(self._fields("get_train_args"))

    def _fields(self, getter):
        fn = getattr(self.obj, getter, None)
        if not callable(fn):
            return {}
        try:
            fields = fn()
        except NotImplementedError:
            return {}
        except Exception as e:
            traceback.print_exc()
            die("%s() failed: %s: %s" % (getter, type(e).__name__, e))
        if fields is None:
            return {}
        if not isinstance(fields, dict) or not all(
                isinstance(f, mfields.Field) for f in fields.values()):
            die("%s() must return a dict of webargs/marshmallow fields"
                % getter)
        return dict(fields)

    def has(self, name):
        return callable(getattr(self.obj, name, None))

    def metadata(self):
        fn = getattr(self.obj, "get_metadata", None)
        if callable(fn):
            try:
                meta = fn()
                if isinstance(meta, dict):
                    return json.loads(to_json(meta))
                sys.stderr.write("kaon-model-worker: get_metadata() returned "
                                 "%s, not a dict\n" % type(meta).__name__)
            except NotImplementedError:
                pass
            except Exception:
                traceback.print_exc()
        return manifest_metadata(self.manifest)

    def describe(self):
        return {
            "metadata": self.metadata(),
            "predict_args": self.predict_args.params(),
            "train_args": self.train_args.params(),
            "accept": self.accept,
            "has_predict": self.has("predict"),
            "has_train": self.has("train"),
            "has_warm": self.has("warm"),
            "response_schema": schema_properties(self.response_schema)
            if self.response_schema else None,
        }

    def start(self):
        if self.has("warm"):
            self.obj.warm()

    def stop(self):
        pass

    def _call(self, name, parsed):
        fn = getattr(self.obj, name, None)
        if not callable(fn):
            raise Fail(501, "Not implemented by underlying model (loaded '%s')"
                       % self.name)
        try:
            return fn(**parsed)
        except NotImplementedError:
            raise Fail(501, "Model '%s' does not implement this functionality"
                       % self.name)
        except Fail:
            raise
        except (Exception, SystemExit) as e:
            traceback.print_exc()
            sys.stderr.flush()
            # aiohttp's HTTPException (HTTPBadRequest...), which some DEEPaaS
            # modules raise to refuse an input: its status and reason.
            code = getattr(e, "status_code", None)
            if isinstance(code, int) and 400 <= code <= 599:
                raise Fail(code, getattr(e, "reason", None) or str(e))
            raise Fail(500, "%s: %s" % (type(e).__name__, e)
                       if str(e) else type(e).__name__)

    def predict(self, request):
        parsed = self.predict_args.parse(request.get("args"),
                                         request.get("files"),
                                         request.get("accept"))
        accept = parsed.get("accept", "application/json") if self.accept \
            else "application/json"
        result = self._call("predict", parsed)
        if accept not in JSON_TYPES:
            return binary_answer(accept, result)
        if self.response_schema is not None:
            try:
                self.response_schema().load(json.loads(to_json(result)))
            except (marshmallow.ValidationError, TypeError, ValueError) as e:
                sys.stderr.write("kaon-model-worker: the response of predict "
                                 "fails the module's schema: %s\n"
                                 % getattr(e, "messages", e))
                raise Fail(500, "ERROR validating model response, check "
                           "server logs.")
            body = result
        else:
            body = {"status": "OK", "predictions": result}
        return json_answer(body)

    def train(self, parsed):
        return self._call("train", parsed)


def json_answer(body):
    # Encoded once, when the answer is written (serve_connection), which
    # turns a value with no JSON form into a 500.
    return {"status": 200, "content_type": "application/json", "json": body}


def binary_answer(accept, result):
    """bytes or an open binary file, written to a file of ours."""
    try:
        if isinstance(result, str):
            result = result.encode("utf-8")
        if isinstance(result, (bytes, bytearray, memoryview)):
            path = TEMP.write(accept, result)
        elif hasattr(result, "read"):
            try:
                if isinstance(result, io.TextIOBase):
                    raise Fail(500, "the model returned a text file for %s; "
                               "open it in binary mode" % accept)
                path = TEMP.write(accept, result)
            finally:
                close = getattr(result, "close", None)
                if callable(close):
                    close()
        else:
            raise Fail(500, "the model returned %s for %s: expected bytes or "
                       "an open binary file" % (type(result).__name__, accept))
    except OSError as e:
        raise Fail(500, "cannot store the model's answer: %s" % e)
    return {"status": 200, "content_type": accept, "path": path}


class ExecModel(Model):
    """Any program speaking the line protocol; arguments checked here from
    the manifest's parameter objects."""

    def __init__(self, model_dir, manifest):
        super().__init__(model_dir, manifest)
        rt = manifest["runtime"]
        cmd = rt.get("command")
        if not isinstance(cmd, list) or not cmd or not all(
                isinstance(c, str) and c for c in cmd):
            die('kaon-model.json: an exec runtime needs "command": '
                '["./program", "arg", ...]')
        # ./x and x/y are relative to the model folder; a bare name is
        # looked up in PATH (python3 serve.py).
        if "/" in cmd[0] and not os.path.isabs(cmd[0]):
            cmd = [os.path.join(model_dir, cmd[0])] + cmd[1:]
        self.command = cmd
        try:
            pf = params_fields(rt.get("predict_args"), "runtime.predict_args")
            tf = params_fields(rt.get("train_args"), "runtime.train_args")
        except (ValueError, TypeError) as e:
            die("kaon-model.json: %s" % e)
        accept = rt.get("accept") or []
        if not isinstance(accept, list) or not all(
                isinstance(a, str) for a in accept):
            die('kaon-model.json: "runtime.accept" must be a list of media '
                'types')
        if accept and "accept" not in pf:
            pf["accept"] = mfields.String(
                validate=mvalidate.OneOf(accept),
                metadata={"description": "Media type of the response"})
        self.predict_args = Arguments(pf)
        self.accept = setup_accept(self.predict_args.fields)
        if self.accept:
            self.predict_args = Arguments(self.predict_args.fields)
        self.train_args = Arguments(tf)
        self.has_train = "train_args" in rt
        self.proc = None

    def describe(self):
        return {
            "metadata": manifest_metadata(self.manifest),
            "predict_args": self.predict_args.params(),
            "train_args": self.train_args.params(),
            "accept": self.accept,
            "has_predict": True,
            "has_train": self.has_train,
            "has_warm": False,
            "response_schema": None,
        }

    def start(self, cwd=None):
        TEMP.get()  # the program learns it from $KAON_WORKER_TMPDIR
        env = dict(os.environ, KAON_MODEL_DIR=self.dir)
        try:
            self.proc = subprocess.Popen(
                self.command, cwd=cwd or self.dir, env=env,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        except OSError as e:
            self.proc = None
            raise Fail(500, "cannot start %s: %s" % (self.command[0], e))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(2)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def exchange(self, request, cwd=None):
        """Send one request line, read one answer line."""
        if self.proc is None or self.proc.poll() is not None:
            self.start(cwd)
        try:
            self.proc.stdin.write((to_json(request) + "\n").encode("utf-8"))
            self.proc.stdin.flush()
            line = self.proc.stdout.readline(MAX_LINE)
        except (OSError, ValueError) as e:
            line = b""
            sys.stderr.write("kaon-model-worker: %s: %s\n"
                             % (self.command[0], e))
        if not line.endswith(b"\n"):
            self.stop()
            code = self.proc.poll()
            self.proc = None
            raise Fail(500, "the model's program ended (exit status %s) "
                       "without answering; it is started again for the next "
                       "request" % code)
        try:
            answer = json.loads(line)
        except ValueError:
            raise Fail(500, "the model's program answered a line that is not "
                       "JSON: %r" % line[:200])
        if not isinstance(answer, dict) or not isinstance(
                answer.get("status"), int) or isinstance(
                answer.get("status"), bool):
            raise Fail(500, "the model's program answered without a numeric "
                       "\"status\"")
        return answer

    def predict(self, request):
        parsed = self.predict_args.parse(request.get("args"),
                                         request.get("files"),
                                         request.get("accept"))
        accept = parsed.pop("accept", "application/json") if self.accept \
            else "application/json"
        args = {k: (v._asdict() if isinstance(v, UploadedFile) else
                    [u._asdict() for u in v]
                    if isinstance(v, list) and v
                    and isinstance(v[0], UploadedFile) else v)
                for k, v in parsed.items()}
        answer = self.exchange({"op": "predict", "args": args,
                                "accept": accept})
        out = {"status": answer["status"]}
        if "content_type" in answer:
            out["content_type"] = str(answer["content_type"])
        if answer["status"] != 200:
            if "json" in answer:
                out["json"] = answer["json"]
                out.setdefault("content_type", "application/json")
            else:
                out["message"] = str(answer.get("message")
                                     or "the model failed")
            return out
        if "path" in answer:
            path = answer["path"]
            try:
                ok = isinstance(path, str) and TEMP.owns(path)
            except OSError:
                ok = False
            if not ok:
                raise Fail(500, "the model's program answered a path that is "
                           "not a file in $KAON_WORKER_TMPDIR")
            out["path"] = os.path.realpath(path)
            out.setdefault("content_type", accept if accept not in JSON_TYPES
                           else "application/octet-stream")
            return out
        if "json" not in answer:
            raise Fail(500, "the model's program answered 200 without "
                       "\"json\" or \"path\"")
        out["json"] = answer["json"]
        out["content_type"] = "application/json"
        return out

    def train(self, parsed):
        if not self.has_train:
            raise Fail(501, "Model '%s' does not implement this functionality"
                       % self.name)
        answer = self.exchange({"op": "train", "args": jsonable_args(parsed)},
                               cwd=os.getcwd())
        self.stop()
        if answer["status"] != 200:
            raise Fail(answer["status"], str(answer.get("message")
                                             or answer.get("json")
                                             or "training failed"))
        return answer.get("json")


def load_model(model_dir):
    model_dir = os.path.realpath(model_dir)
    if not os.path.isdir(model_dir):
        die("%s is not a folder" % model_dir)
    manifest = read_manifest(model_dir)
    if manifest["runtime"]["type"] == "python":
        return PythonModel(model_dir, manifest)
    return ExecModel(model_dir, manifest)


# ---- modes ------------------------------------------------------------------------

def cmd_describe(opts, out):
    os.chdir(os.path.realpath(opts.dir))
    model = load_model(opts.dir)
    out.line(to_json(model.describe()))
    return 0


def cmd_validate(opts, out):
    model = load_model(opts.dir)
    args, files, accept = read_request_file(opts.args)
    fields = model.predict_args if opts.kind == "predict" else model.train_args
    try:
        parsed = fields.parse(args, files, accept)
        answer = {"status": 200, "content_type": "application/json",
                  "json": jsonable_args(parsed)}
    except Fail as f:
        answer = f.answer()
    out.line(to_json(answer))
    return 0


def write_result(out_dir, result):
    """OUTDIR/result.json, atomically: never seen half-written."""
    data = (to_json(result) + "\n").encode("utf-8")
    fd, tmp = tempfile.mkstemp(dir=out_dir, prefix=".result.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.rename(tmp, os.path.join(out_dir, "result.json"))
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    dfd = os.open(out_dir, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def cmd_train(opts, out):
    out_dir = os.path.realpath(opts.out)
    args, files, _ = read_request_file(opts.args)
    if not os.path.isdir(out_dir):
        die("%s is not a folder" % out_dir, 2)
    model = load_model(opts.dir)
    # The training's output folder is its working directory: a module
    # saves what it makes with relative paths.
    os.chdir(out_dir)
    try:
        parsed = model.train_args.parse(args, files)
    except Fail as f:
        write_result(out_dir, {"status": "error", "message":
                               "invalid training arguments",
                               "errors": f.body or {}})
        return 2
    try:
        if isinstance(model, PythonModel):
            # DEEPaaS warms every worker process before it trains in it.
            model.start()
        value = model.train(parsed)
        text = to_json({"status": "done", "output": value})
    except Fail as f:
        write_result(out_dir, {"status": "error", "message": f.message})
        return 1
    except (TypeError, ValueError) as e:
        write_result(out_dir, {"status": "error", "message":
                               "train() returned a value that is not JSON: %s"
                               % e})
        return 1
    except Exception as e:  # warm() failing
        traceback.print_exc()
        write_result(out_dir, {"status": "error", "message":
                               "%s: %s" % (type(e).__name__, e)})
        return 1
    write_result(out_dir, json.loads(text))
    return 0


def handle(model, line):
    """One request line -> one answer object; never raises."""
    try:
        try:
            request = json.loads(line)
        except ValueError as e:
            raise Fail(400, "a request is one JSON object a line: %s" % e)
        if not isinstance(request, dict):
            raise Fail(400, "a request is one JSON object a line")
        op = request.get("op")
        if op == "ping":
            return {"status": 200}
        if op == "predict":
            accept = request.get("accept")
            if accept is not None and not isinstance(accept, str):
                raise Fail(400, "\"accept\" must be a string or null")
            return model.predict(request)
        raise Fail(400, "unknown op %r: \"predict\" or \"ping\"" % (op,))
    except Fail as f:
        return f.answer()
    except Exception as e:  # a bug of ours: say so, keep serving
        traceback.print_exc()
        return {"status": 500, "message": "kaon-model-worker: %s: %s"
                % (type(e).__name__, e)}


def serve_connection(conn, model):
    reader = conn.makefile("rb")
    try:
        while True:
            line = reader.readline(MAX_LINE + 1)
            if not line:
                return
            if len(line) > MAX_LINE and not line.endswith(b"\n"):
                # Skip the rest of an overlong line, answer once.
                while line and not line.endswith(b"\n"):
                    line = reader.readline(MAX_LINE)
                answer = {"status": 400, "message": "request line longer "
                          "than %d bytes" % MAX_LINE}
            elif not line.strip():
                continue
            else:
                answer = handle(model, line)
            try:
                text = to_json(answer)
            except (TypeError, ValueError) as e:
                text = to_json({"status": 500, "message": "the model returned "
                                "a value that is not JSON: %s" % e})
            conn.sendall((text + "\n").encode("utf-8"))
    except OSError as e:  # the daemon went away mid-answer
        sys.stderr.write("kaon-model-worker: connection: %s\n" % e)
    finally:
        reader.close()
        conn.close()


def cmd_serve(opts, out):
    model_dir = os.path.realpath(opts.dir)
    sock_path = os.path.abspath(opts.socket)
    state = {"listening": False, "model": None}

    def cleanup():
        if state["listening"]:
            try:
                os.unlink(sock_path)
            except OSError:
                pass
        if state["model"] is not None:
            state["model"].stop()
        TEMP.cleanup()

    def on_term(signum, frame):
        # At once, even in the middle of a prediction: the pool has
        # decided this worker goes.
        cleanup()
        sys.stderr.flush()
        os._exit(0)

    signal.signal(signal.SIGTERM, on_term)
    os.chdir(model_dir)
    model = load_model(model_dir)
    state["model"] = model
    try:
        model.start()
    except Fail as f:
        die(f.message)
    except Exception as e:
        traceback.print_exc()
        die("warm() failed: %s: %s" % (type(e).__name__, e))
    try:
        st = os.lstat(sock_path)
        if not stat.S_ISSOCK(st.st_mode):
            die("%s exists and is not a socket" % sock_path)
        os.unlink(sock_path)  # a stale one from a worker that died
    except FileNotFoundError:
        pass
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    try:
        srv.bind(sock_path)
    except OSError as e:
        die("cannot listen on %s: %s" % (sock_path, e))
    finally:
        os.umask(old)
    state["listening"] = True
    os.chmod(sock_path, 0o600)
    srv.listen(4)
    out.line("ready")
    while True:
        try:
            conn, _ = srv.accept()
        except InterruptedError:
            continue
        serve_connection(conn, model)


def main(argv):
    parser = argparse.ArgumentParser(
        prog="kaon-model-worker",
        description="Run one kaon catalog model (docs/models.md).")
    sub = parser.add_subparsers(dest="mode", required=True)
    p = sub.add_parser("describe", help="the model's metadata and arguments")
    p.add_argument("dir")
    p = sub.add_parser("validate", help="parse arguments as predict/train "
                       "would")
    p.add_argument("dir")
    p.add_argument("--kind", choices=("predict", "train"), required=True)
    p.add_argument("--args", required=True)
    p = sub.add_parser("serve", help="answer predictions on a unix socket")
    p.add_argument("dir")
    p.add_argument("--socket", required=True)
    p = sub.add_parser("train", help="run one training")
    p.add_argument("dir")
    p.add_argument("--args", required=True)
    p.add_argument("--out", required=True)
    opts = parser.parse_args(argv)
    opts.dir = os.path.realpath(opts.dir)  # before any chdir
    out = Stdout()
    mode = {"describe": cmd_describe, "validate": cmd_validate,
            "serve": cmd_serve, "train": cmd_train}[opts.mode]
    return mode(opts, out)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
