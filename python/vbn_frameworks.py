"""How the vbn check worker runs and differentiates an implementation in each framework.

Every adapter takes and returns numpy float32 arrays in the file's layout. The loss is the check's:
the mean over the batch of the softmax cross-entropy of the logits against integer labels.
"""

import os
import traceback

import numpy as np

FRAMEWORKS = ("torch", "tensorflow", "tensorflow-v1", "jax", "numpy")


class UserError(Exception):
    """A problem with the implementation file, told to vbn in one line."""


class MissingParameter(Exception):
    pass


def describe(e, file):
    """The Python error's last line, and the line of `file` it came from when there is one."""
    last = " ".join(traceback.format_exception_only(type(e), e)[-1].split())[:400]
    lines = [f.lineno for f in traceback.extract_tb(e.__traceback__) if os.path.abspath(f.filename) == file]
    return f"{last} (line {lines[-1]})" if lines else last


class Guarded(dict):
    """Parameters by name; asking for one the network lacks names the known ones."""

    def __missing__(self, name):
        raise MissingParameter(
            f"asks for parameter '{name}', which the network does not have (parameters: {', '.join(self.keys())})"
        )


def split(out):
    """apply's result: logits, or {"logits": ..., "activations": {...}}."""
    if isinstance(out, dict):
        if "logits" not in out:
            raise UserError('apply returned a dict without "logits"')
        return out["logits"], dict(out.get("activations") or {})
    return out, {}


def to_numpy(x):
    if hasattr(x, "detach"):
        x = x.detach().cpu()
    if hasattr(x, "numpy"):
        x = x.numpy()
    return np.asarray(x)


def cross_entropy_grad(logits, labels):
    """d mean_b(logsumexp(z_b) - z_b[y_b]) / dz, in float64, returned as float32."""
    z = logits.astype(np.float64)
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(labels)), labels] -= 1
    return (p / len(labels)).astype(np.float32)


class Adapter:
    entry = "apply"
    needs = ("apply",)
    compiler = ""
    device = "cpu"

    def __init__(self, jit, file, names):
        self.jit = jit
        self.file = file
        self.names = names

    def bind(self, module):
        for fn in self.needs:
            if not callable(getattr(module, fn, None)):
                sig = "vjp(params, reference, inputs, dlogits)" if fn == "vjp" else f"{fn}(params, reference, inputs)"
                raise UserError(f"the file must define {sig} (FRAMEWORK = {self.framework!r})")
        self.module = module
        self.setup()

    def setup(self):
        pass

    def user(self, what, fn, *args):
        """Calls the file's code; its errors become one line naming the call."""
        try:
            return fn(*args)
        except (MissingParameter, UserError):
            raise
        except Exception as e:  # noqa: BLE001
            raise UserError(f"{what} raised {describe(e, self.file)}") from None

    def finish(self, out, check, batch):
        logits, activations = split(out)
        logits = to_numpy(logits)
        check(logits, batch)
        return logits, {k: to_numpy(v) for k, v in activations.items()}


class Torch(Adapter):
    framework = "torch"

    def setup(self):
        import torch

        self.torch = torch
        self.version = torch.__version__.split("+")[0]
        if self.jit:
            raise UserError("JIT = True applies to tensorflow, tensorflow-v1 and jax, not torch")

    def forward(self, params, reference, inputs, check):
        t = self.torch
        with t.no_grad():
            p = Guarded({k: t.from_numpy(v) for k, v in params.items()})
            out = self.user("apply", self.module.apply, p, t.from_numpy(reference), t.from_numpy(inputs))
        return self.finish(out, check, inputs.shape[0])

    def gradients(self, params, reference, inputs, labels, check):
        t = self.torch
        p = {k: t.from_numpy(v).requires_grad_(True) for k, v in params.items()}
        r = t.from_numpy(reference).requires_grad_(True)
        out = self.user("apply", self.module.apply, Guarded(p), r, t.from_numpy(inputs))
        logits, _ = split(out)
        if not isinstance(logits, t.Tensor):
            raise UserError(f"apply returned {type(logits).__name__} logits, not a torch tensor")
        check(logits, inputs.shape[0])
        loss = t.nn.functional.cross_entropy(logits, t.from_numpy(labels).long())
        wrt = [p[n] for n in self.names] + [r]
        g = t.autograd.grad(loss, wrt, allow_unused=True)
        grads = {n: (x if x is not None else t.zeros_like(w)) for n, x, w in zip(self.names + ["reference"], g, wrt)}
        return to_numpy(logits), {k: to_numpy(v) for k, v in grads.items()}


class TensorFlow(Adapter):
    framework = "tensorflow"

    def setup(self):
        import tensorflow as tf

        self.tf = tf
        self.version = tf.__version__
        self.compiler = "XLA" if self.jit else ""
        apply = self.module.apply

        def call(p, r, x):
            return apply(Guarded(p), r, x)

        self.fn = tf.function(call, jit_compile=True) if self.jit else call

    def forward(self, params, reference, inputs, check):
        tf = self.tf
        p = {k: tf.constant(v) for k, v in params.items()}
        out = self.user("apply", self.fn, p, tf.constant(reference), tf.constant(inputs))
        return self.finish(out, check, inputs.shape[0])

    def gradients(self, params, reference, inputs, labels, check):
        tf = self.tf
        p = {k: tf.constant(v) for k, v in params.items()}
        r = tf.constant(reference)
        with tf.GradientTape() as tape:
            tape.watch(list(p.values()) + [r])
            logits, _ = split(self.user("apply", self.fn, p, r, tf.constant(inputs)))
            check(logits, inputs.shape[0])
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf.constant(labels), logits=logits)
            )
        wrt = [p[n] for n in self.names] + [r]
        g = tape.gradient(loss, wrt)
        grads = {n: (x if x is not None else tf.zeros_like(w)) for n, x, w in zip(self.names + ["reference"], g, wrt)}
        return to_numpy(logits), {k: to_numpy(v) for k, v in grads.items()}


class TensorFlowV1(Adapter):
    """Graph code: build(params, reference, inputs) on variables and a placeholder, in a session."""

    framework = "tensorflow-v1"
    entry = "build"
    needs = ("build",)

    def setup(self):
        import tensorflow as tf

        self.tf = tf
        self.version = tf.__version__
        self.compiler = "XLA" if self.jit else ""
        self.graphs = {}

    def graph(self, params, reference, inputs, check):
        key = (reference.shape, inputs.shape)
        if key not in self.graphs:
            self.graphs[key] = self.make_graph(params, reference.shape, inputs.shape, check)
        return self.graphs[key]

    def make_graph(self, params, ref_shape, in_shape, check):
        tf = self.tf
        v1 = tf.compat.v1
        g = tf.Graph()
        with g.as_default():
            variables, assign = {}, []
            for n in self.names:
                v = v1.get_variable(n.replace("/", "_"), shape=params[n].shape, dtype=tf.float32, trainable=True)
                variables[n] = v
                assign.append((v1.placeholder(tf.float32, params[n].shape), v))
            reference = v1.get_variable("reference_batch", shape=ref_shape, dtype=tf.float32, trainable=True)
            assign.append((v1.placeholder(tf.float32, ref_shape), reference))
            inputs = v1.placeholder(tf.float32, in_shape, name="inputs")
            out = self.user("build", self.module.build, Guarded(variables), reference, inputs)
            logits, activations = split(out)
            if not isinstance(logits, tf.Tensor):
                raise UserError(f"build returned {type(logits).__name__}, not a logits tensor")
            check(logits, in_shape[0])
            labels = v1.placeholder(tf.int32, [in_shape[0]])
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
            wrt = [variables[n] for n in self.names] + [reference]
            grads = [x if x is not None else tf.zeros_like(w) for x, w in zip(tf.gradients(loss, wrt), wrt)]
            ops = [v1.assign(v, ph) for ph, v in assign]
            # Variables the file's build makes itself (seed-style tf.get_variable for gamma, say)
            # start from their own initializers; they are not vbn's parameters, so not compared.
            ours = set(variables.values()) | {reference}
            own_init = v1.variables_initializer([v for v in v1.global_variables() if v not in ours])
            config = v1.ConfigProto()
            if self.jit:
                config.graph_options.optimizer_options.global_jit_level = v1.OptimizerOptions.ON_1
            session = v1.Session(graph=g, config=config)
        return {
            "session": session,
            "assign": ops,
            "placeholders": [ph for ph, _ in assign],
            "inputs": inputs,
            "labels": labels,
            "logits": logits,
            "activations": activations,
            "grads": grads,
            "own_init": own_init,
        }

    def load(self, gr, params, reference):
        values = [params[n] for n in self.names] + [reference]
        gr["session"].run(gr["own_init"])
        gr["session"].run(gr["assign"], feed_dict=dict(zip(gr["placeholders"], values)))

    def forward(self, params, reference, inputs, check):
        gr = self.graph(params, reference, inputs, check)
        self.load(gr, params, reference)
        logits, acts = self.user(
            "build", gr["session"].run, [gr["logits"], gr["activations"]], {gr["inputs"]: inputs}
        )
        return np.asarray(logits), {k: np.asarray(v) for k, v in acts.items()}

    def gradients(self, params, reference, inputs, labels, check):
        gr = self.graph(params, reference, inputs, check)
        self.load(gr, params, reference)
        logits, grads = self.user(
            "build", gr["session"].run, [gr["logits"], gr["grads"]], {gr["inputs"]: inputs, gr["labels"]: labels}
        )
        check(np.asarray(logits), inputs.shape[0])
        return np.asarray(logits), dict(zip(self.names + ["reference"], grads))


class Jax(Adapter):
    framework = "jax"

    def setup(self):
        import jax

        self.jax = jax
        self.version = jax.__version__
        self.device = jax.devices()[0].platform
        self.compiler = "jit" if self.jit else ""
        apply = self.module.apply

        def call(p, r, x):
            return apply(Guarded(p), r, x)

        self.fn = jax.jit(call) if self.jit else call

    def forward(self, params, reference, inputs, check):
        return self.finish(self.user("apply", self.fn, params, reference, inputs), check, inputs.shape[0])

    def gradients(self, params, reference, inputs, labels, check):
        jax = self.jax
        jnp = jax.numpy

        def loss(p, r):
            logits, _ = split(self.fn(p, r, inputs))
            check(logits, inputs.shape[0])
            z = jax.nn.logsumexp(logits, axis=1) - jnp.take_along_axis(logits, labels[:, None], axis=1)[:, 0]
            return jnp.mean(z), logits

        step = jax.value_and_grad(loss, argnums=(0, 1), has_aux=True)
        (_, logits), (gp, gr) = self.user("apply", step, params, reference)
        grads = {n: to_numpy(gp[n]) for n in self.names}
        grads["reference"] = to_numpy(gr)
        return to_numpy(logits), grads


class Numpy(Adapter):
    framework = "numpy"
    needs = ("apply", "vjp")

    def setup(self):
        self.version = np.__version__

    def forward(self, params, reference, inputs, check):
        out = self.user("apply", self.module.apply, Guarded(params), reference, inputs)
        return self.finish(out, check, inputs.shape[0])

    def gradients(self, params, reference, inputs, labels, check):
        out = self.user("apply", self.module.apply, Guarded(params), reference, inputs)
        logits, _ = self.finish(out, check, inputs.shape[0])
        dlogits = cross_entropy_grad(logits, labels)
        grads = self.user("vjp", self.module.vjp, Guarded(params), reference, inputs, dlogits)
        if not isinstance(grads, dict):
            raise UserError(f"vjp returned {type(grads).__name__}, not a dict of gradients by name")
        return logits, {k: grads.get(k) for k in self.names + ["reference"]}


ADAPTERS = {"torch": Torch, "tensorflow": TensorFlow, "tensorflow-v1": TensorFlowV1, "jax": Jax, "numpy": Numpy}
MODULES = {"torch": "torch", "tensorflow": "tensorflow", "tensorflow-v1": "tensorflow", "jax": "jax", "numpy": "numpy"}


def make_adapter(framework, jit, file, names):
    """Imports the framework (an error names it when it is not installed) and returns its adapter."""
    import importlib
    import sys

    if framework == "tensorflow-v1" and jit:
        os.environ.setdefault("TF_XLA_FLAGS", "--tf_xla_auto_jit=1 --tf_xla_cpu_global_jit")
    if framework == "jax":
        os.environ.setdefault("JAX_PLATFORMS", "cpu")
    try:
        importlib.import_module(MODULES[framework])
    except ImportError as e:
        raise UserError(
            f"FRAMEWORK = {framework!r} but {MODULES[framework]} is not installed for {sys.executable} ({e})"
        ) from None
    return ADAPTERS[framework](jit, file, names)
