"""The worker that runs one Python implementation file for `vbn check`.

Usage: python vbn_worker.py FILE. It speaks JSON lines over stdin/stdout as written down in
docs/check-protocol.md. Requirements: numpy, and the framework the file names.
"""

import ast
import base64
import json
import os
import sys
import threading
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vbn_frameworks import FRAMEWORKS, MissingParameter, UserError, describe, make_adapter  # noqa: E402

LAYOUTS = ("vbn", "torch")


def protocol_stdout():
    """Keeps the real stdout for replies; whatever else is printed goes to stderr."""
    out = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return out


def watch_parent():
    """Exits when vbn is gone, even in the middle of a long computation."""
    parent = os.getppid()

    def watch():
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def decode(a):
    """A protocol array -> a float32 numpy array."""
    if a.get("dtype") != "float32":
        raise UserError(f"the worker receives float32 arrays, not {a.get('dtype')}")
    data = base64.b64decode(a["data"])
    return np.frombuffer(data, dtype="<f4").reshape(a["shape"]).copy()


def encode(x):
    """A numpy array -> a protocol array, float32 or float64 as it is (vbn checks the dtype)."""
    x = np.asarray(x)
    if x.dtype == np.float64:
        data = np.ascontiguousarray(x, dtype="<f8").tobytes()
    elif x.dtype == np.float32:
        data = np.ascontiguousarray(x, dtype="<f4").tobytes()
    else:
        data = b""
    return {"dtype": str(x.dtype), "shape": list(x.shape), "data": base64.b64encode(data).decode()}


def constants(file):
    """FRAMEWORK, LAYOUT and JIT, read without running the file (the framework is imported first)."""
    try:
        tree = ast.parse(open(file, encoding="utf-8").read(), filename=file)
    except SyntaxError as e:
        raise UserError(f"the file is not valid Python: {e.msg} (line {e.lineno})") from None
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name) and target.id in ("FRAMEWORK", "LAYOUT", "JIT"):
                try:
                    found[target.id] = ast.literal_eval(node.value)
                except ValueError:
                    raise UserError(f"{target.id} must be a literal (line {node.lineno})") from None
    framework = found.get("FRAMEWORK")
    if framework is None:
        raise UserError(f"the file must set FRAMEWORK to one of {', '.join(FRAMEWORKS)}")
    if framework not in FRAMEWORKS:
        raise UserError(f"FRAMEWORK = {framework!r} is not one of {', '.join(FRAMEWORKS)}")
    layout = found.get("LAYOUT", "vbn")
    if layout not in LAYOUTS:
        raise UserError(f"LAYOUT = {layout!r} is not one of {', '.join(LAYOUTS)}")
    jit = found.get("JIT", False)
    if not isinstance(jit, bool):
        raise UserError(f"JIT must be True or False, not {jit!r}")
    return framework, layout, jit


def load_module(file):
    import importlib.util

    sys.path.insert(0, os.path.dirname(file))
    spec = importlib.util.spec_from_file_location("vbn_implementation", file)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as e:  # noqa: BLE001 - any error in the user's file is reported in one line
        raise UserError(f"the file failed to load: {describe(e, file)}") from None
    return module


class Layout:
    """vbn's layout <-> the file's. 'torch': images NCHW, kernels [F, Cin, k, k], dense [K, F]."""

    def __init__(self, layout, channels_first):
        self.torch = layout == "torch"
        self.images_differ = self.torch and not channels_first

    def image_in(self, x):
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2)) if self.images_differ else x

    def image_out(self, g):
        return np.ascontiguousarray(g.transpose(0, 2, 3, 1)) if self.images_differ else g

    def param_in(self, name, p):
        if self.torch and name.endswith("/kernel"):
            return np.ascontiguousarray(p.transpose(3, 2, 0, 1) if p.ndim == 4 else p.T)
        return p

    def param_out(self, name, g):
        if self.torch and name.endswith("/kernel"):
            return np.ascontiguousarray(g.transpose(2, 3, 1, 0) if g.ndim == 4 else g.T)
        return g

    def activation_out(self, a):
        return self.image_out(a) if a.ndim == 4 else a


class Session:
    """One implementation file and the network vbn described in 'init'."""

    def __init__(self, file, network):
        framework, layout, jit = constants(file)
        self.names = list(network["parameters"].keys())
        self.classes = int(network["numClasses"])
        self.layout = Layout(layout, network.get("dataFormat") == "channelsFirst")
        self.adapter = make_adapter(framework, jit, file, self.names)  # imports the framework
        self.adapter.bind(load_module(file))

    def hello(self):
        a = self.adapter
        return {"framework": a.framework, "version": a.version, "device": a.device, "compiler": a.compiler}

    def _inputs(self, req):
        params = {n: self.layout.param_in(n, decode(a)) for n, a in req["params"].items()}
        reference = self.layout.image_in(decode(req["reference"]))
        inputs = self.layout.image_in(decode(req["inputs"]))
        return params, reference, inputs

    def _check_logits(self, logits, batch, n):
        if tuple(logits.shape) == (batch, self.classes):
            return
        shape = ",".join(str(d) for d in logits.shape)
        hint = ""
        if len(logits.shape) == 2 and logits.shape[0] == (n + batch) // 2 != batch:
            hint = (
                f"; {logits.shape[0]} = (N + B) // 2 with reference N = {n} and batch B = {batch}: the implementation "
                "splits [reference; inputs] at shape[0] // 2, which is right only when B = N "
                "(split at the reference size N instead)"
            )
        raise UserError(f"returned logits of shape [{shape}] but expected [{batch},{self.classes}]{hint}")

    def forward(self, req):
        params, reference, inputs = self._inputs(req)
        n = reference.shape[0]
        logits, activations = self.adapter.forward(
            params, reference, inputs, lambda z, b: self._check_logits(z, b, n)
        )
        reply = {"logits": encode(logits)}
        if req.get("activations"):
            reply["activations"] = {k: encode(self.layout.activation_out(v)) for k, v in activations.items()}
        return reply

    def gradients(self, req):
        params, reference, inputs = self._inputs(req)
        labels = np.asarray(req["labels"], dtype=np.int32)
        n = reference.shape[0]
        logits, grads = self.adapter.gradients(
            params, reference, inputs, labels, lambda z, b: self._check_logits(z, b, n)
        )
        out = {}
        for name, g in grads.items():
            if g is None:
                continue
            g = np.asarray(g)
            out[name] = encode(self.layout.image_out(g) if name == "reference" else self.layout.param_out(name, g))
        return {"logits": encode(logits), "gradients": out}


def handle(session, req, file):
    op = req.get("op")
    if op == "init":
        return Session(file, req["network"])
    if session is None:
        raise UserError(f"'{op}' before 'init'")
    if op == "forward":
        return session.forward(req)
    if op == "gradients":
        return session.gradients(req)
    raise UserError(f"unknown request '{op}'")


def main():
    out = protocol_stdout()
    if len(sys.argv) != 2:
        print("usage: vbn_worker.py FILE", file=sys.stderr)
        return 2
    file = os.path.abspath(sys.argv[1])
    watch_parent()
    session = None
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            result = handle(session, req, file)
            if isinstance(result, Session):
                session = result
                result = session.hello()
        except (UserError, MissingParameter) as e:
            result = {"error": str(e)}
        except Exception as e:  # noqa: BLE001 - reported to vbn in one line
            result = {"error": f"the worker failed: {describe(e, file)}"}
        out.write(json.dumps({"id": req.get("id"), **result}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
