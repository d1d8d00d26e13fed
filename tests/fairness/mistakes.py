"""Single-mistake variants of the correct implementations (issue 7: one mistake, one deduction).

Each :class:`Mistake` names a correct implementation (``base``, a style in ``correct/``), the one
top-level function it replaces, the replacement's source (the classic mistake, written as students
write it), the question that grades that function, and a regular expression that some failing
message of that question must match (case-insensitive): the feedback must name the mistake.

:func:`build` splices the replacement into the base's source in place of the original definition
(not appended: module-level tables such as ``ACTIVATIONS = {"relu": (relu, ...)}`` capture the
function defined at that point, exactly as in a notebook whose cell holds the mistake).

Questions: q1 one_hot/preprocess, q2 stratified_split, q3 softmax, q4 cross_entropy_loss,
q5 cross_entropy_derivative, q6 activations, q7 init_params, q8 forward, q9 backprop, q10 update,
q11 gradient_check, q12 train, q13 predict/accuracy/confusion_matrix/per_class_report.
"""

import ast
import textwrap
from dataclasses import dataclass


@dataclass(frozen=True)
class Mistake:
    name: str
    base: str          # style of the correct implementation in correct/impl_<style>.py
    function: str      # the top-level function replaced
    question: str      # the question grading that function
    pattern: str       # some failing message of `question` must match this (re.IGNORECASE)
    source: str        # the replacement definition
    why: str = ""


def replace_function(source, name, replacement):
    """``source`` with the top-level ``def name`` replaced by ``replacement`` (one def of that name)."""
    replacement = textwrap.dedent(replacement).strip("\n") + "\n"
    parsed = ast.parse(replacement)
    if len(parsed.body) != 1 or not isinstance(parsed.body[0], ast.FunctionDef) or parsed.body[0].name != name:
        raise ValueError(f"the replacement must be exactly one definition of {name}")
    tree = ast.parse(source)
    found = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
    if len(found) != 1:
        raise ValueError(f"{len(found)} top-level definitions of {name} in the base")
    node = found[0]
    first = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
    lines = source.splitlines(keepends=True)
    return "".join(lines[:first]) + replacement + "".join(lines[node.end_lineno:])


def build(mistake, base_source):
    return replace_function(base_source, mistake.function, mistake.source)


M = Mistake
MISTAKES = [
    # ------------------------------------------------------------------ q1
    M("one_hot_transposed", "small_randn", "one_hot", "q1", r"\(m, 10\)|\(10, m\)|transpos|samples are columns",
      '''
      def one_hot(labels, n_classes=10):
          labels = np.array(labels, dtype=int).reshape(-1)
          return np.eye(n_classes, dtype=np.float32)[labels]
      ''', "one row per sample instead of one column"),
    M("preprocess_column_major", "rows", "preprocess", "q1", r"column by column|row by row",
      '''
      def preprocess(images, method="scale"):
          images = np.asarray(images)
          rows = images.transpose(0, 2, 1).reshape(len(images), -1).astype(np.float32) / 255.0
          if method == "zscore":
              rows = (rows - rows.mean(axis=0)) / (rows.std(axis=0) + 1e-8)
          elif method != "scale":
              raise ValueError("method is 'scale' or 'zscore'")
          return rows.T.astype(np.float32)
      ''', "images flattened column by column (Fortran order)"),
    M("zscore_per_image", "he64", "preprocess", "q1", r"each image|per pixel|axis=1|row of X",
      '''
      def preprocess(images, method="scale"):
          images = np.asarray(images)
          m = images.shape[0]
          pixels = images.reshape(m, 784).astype(F) / 255.0
          if method == "zscore":
              mu = pixels.mean(axis=1, keepdims=True)
              sigma = pixels.std(axis=1, keepdims=True)
              pixels = (pixels - mu) / (sigma + 1e-8)
          elif method != "scale":
              raise ValueError(f"unknown preprocessing {method!r}")
          return np.ascontiguousarray(pixels.T, dtype=np.float32)
      ''', "z-score statistics over each image instead of each pixel"),
    M("preprocess_integer_division", "inplace", "preprocess", "q1", r"integer division|//|0s and 1s",
      '''
      def preprocess(images, method="scale"):
          X = (np.asarray(images).reshape(len(images), -1).T // 255).astype(np.float32)
          if method == "zscore":
              X -= X.mean(axis=1, keepdims=True)
              X /= X.std(axis=1, keepdims=True) + 1e-8
          elif method != "scale":
              raise ValueError("unknown method")
          return X
      ''', "pixels // 255"),
    # ------------------------------------------------------------------ q2
    M("split_not_stratified", "clip32", "stratified_split", "q2", r"stratif|each class|every class|class \d",
      '''
      def stratified_split(labels, fraction=0.5, seed=0):
          labels = np.asarray(labels)
          rng = np.random.default_rng(seed)
          order = rng.permutation(labels.size)
          cut = int(round(fraction * labels.size))
          return order[:cut], order[cut:]
      ''', "a random cut of the whole array, not per class"),
    M("split_not_shuffled", "grouped", "stratified_split", "q2", r"shuffl|first samples",
      '''
      def stratified_split(labels, fraction=0.5, seed=0):
          labels = np.asarray(labels)
          train_idx = []
          val_idx = []
          for c in range(10 if labels.size == 0 else max(10, int(labels.max()) + 1)):
              idx = np.where(labels == c)[0]
              n_train = round(fraction * len(idx))
              train_idx += list(idx[:n_train])
              val_idx += list(idx[n_train:])
          return np.array(train_idx, dtype=np.int64), np.array(val_idx, dtype=np.int64)
      ''', "each class cut in data order, seed ignored"),
    # ------------------------------------------------------------------ q3
    M("softmax_axis1", "cs231n", "softmax", "q3", r"axis|column",
      '''
      def softmax(Z):
          Z = np.asarray(Z)
          shifted = Z - np.max(Z, axis=1, keepdims=True)
          e = np.exp(shifted)
          return e / np.sum(e, axis=1, keepdims=True)
      ''', "softmax normalised over the rows"),
    M("softmax_no_max", "glorot_einsum", "softmax", "q3", r"max|overflow|nan|inf",
      '''
      def softmax(Z):
          E = np.exp(np.asarray(Z))
          return E / np.einsum("km->m", E)
      ''', "no max subtraction: exp overflows"),
    M("softmax_global_max", "small_randn", "softmax", "q3", r"max of each column|column|softmax\(Z \+ c\)|constant",
      '''
      def softmax(Z):
          expZ = np.exp(Z - np.max(Z))
          return expZ / np.sum(expZ, axis=0, keepdims=True)
      ''', "the max of the whole matrix subtracted"),
    # ------------------------------------------------------------------ q4
    M("loss_sum_not_mean", "rows", "cross_entropy_loss", "q4", r"sum instead of mean|too big|mean over",
      '''
      def cross_entropy_loss(A, Y):
          P = np.asarray(A).T
          T = np.asarray(Y).T
          return float(-(T * np.log(np.clip(P, 1e-12, 1.0))).sum())
      ''', "sum over the samples instead of the mean"),
    M("loss_no_minus", "clip32", "cross_entropy_loss", "q4", r"minus|negative|sign",
      '''
      def cross_entropy_loss(A, Y):
          A = np.clip(np.asarray(A), EPSILON, 1.0 - EPSILON)
          Y = np.asarray(Y)
          return float(np.mean(np.sum(Y * np.log(A), axis=0)))
      ''', "missing minus sign"),
    M("loss_no_clip", "logsumexp", "cross_entropy_loss", "q4", r"clip|nan|inf|zero|log\(0\)",
      '''
      def cross_entropy_loss(A, Y):
          A = np.asarray(A, dtype=np.float64)
          Y = np.asarray(Y, dtype=np.float64)
          return float(-np.sum(Y * np.log(A)) / Y.shape[1])
      ''', "log(0) gives -inf and 0 * -inf gives nan"),
    M("loss_mean_over_all_entries", "inplace", "cross_entropy_loss", "q4", r"10x too small|number of samples|all 10",
      '''
      def cross_entropy_loss(A, Y):
          A = np.asarray(A)
          Y = np.asarray(Y)
          return float(-np.mean(Y * np.log(np.maximum(A, 1e-15))))
      ''', "np.mean over all n_classes * m entries"),
    # ------------------------------------------------------------------ q5
    M("derivative_without_1_over_m", "he64", "cross_entropy_derivative", "q5", r"divide by m|m times|1/m|/ m",
      '''
      def cross_entropy_derivative(A, Y):
          A = np.asarray(A, dtype=F)
          Y = np.asarray(Y, dtype=F)
          return A - Y
      ''', "(A - Y) without the 1/m"),
    M("derivative_sign_flipped", "class", "cross_entropy_derivative", "q5", r"sign|Y - A",
      '''
      def cross_entropy_derivative(A, Y):
          A, Y = np.asarray(A), np.asarray(Y)
          return (Y - A) / Y.shape[1]
      ''', "(Y - A) / m"),
    # ------------------------------------------------------------------ q6
    M("sigmoid_derivative_on_A", "small_randn", "sigmoid_derivative", "q6", r"on A|pre-activation|evaluated",
      '''
      def sigmoid_derivative(Z):
          return Z * (1.0 - Z)
      ''', "sigmoid'(Z) written as if Z were the activation A"),
    M("sigmoid_derivative_wrong", "grouped", "sigmoid_derivative", "q6", r"sigmoid_derivative|sigmoid",
      '''
      def sigmoid_derivative(Z):
          return np.exp(-Z) / (1 + np.exp(-Z))
      ''', "the square of the denominator forgotten"),
    M("tanh_derivative_not_squared", "cs231n", "tanh_derivative", "q6", r"tanh",
      '''
      def tanh_derivative(Z):
          return 1 - np.tanh(Z)
      ''', "1 - tanh instead of 1 - tanh**2"),
    M("relu_derivative_is_relu", "inplace", "relu_derivative", "q6", r"relu_derivative returned relu|slope|relu_derivative",
      '''
      def relu_derivative(Z):
          return np.maximum(Z, 0)
      ''', "the derivative returns relu(Z)"),
    M("sigmoid_overflows", "clip32", "sigmoid", "q6", r"nan|overflow|1000|sigmoid",
      '''
      def sigmoid(Z):
          Z = np.asarray(Z)
          return np.exp(Z) / (1.0 + np.exp(Z))
      ''', "exp(Z) / (1 + exp(Z)) gives nan for large Z"),
    # ------------------------------------------------------------------ q7
    M("init_zeros", "rows", "init_params", "q7", r"zero|symmetr",
      '''
      def init_params(n_in, n_hidden, n_out, seed=0):
          return {"W1": np.zeros((n_hidden, n_in), np.float32), "b1": np.zeros((n_hidden, 1), np.float32),
                  "W2": np.zeros((n_out, n_hidden), np.float32), "b2": np.zeros((n_out, 1), np.float32)}
      ''', "all weights zero"),
    M("init_bias_vector", "logsumexp", "init_params", "q7", r"\(H,\)|b1 has shape|\(n_hidden, 1\)|b1",
      '''
      def init_params(n_in, n_hidden, n_out, seed=0):
          rng = np.random.default_rng(seed)
          return {"W1": np.sqrt(2 / n_in) * rng.standard_normal((n_hidden, n_in)).astype(np.float32),
                  "b1": np.zeros(n_hidden, np.float32),
                  "W2": np.sqrt(2 / n_hidden) * rng.standard_normal((n_out, n_hidden)).astype(np.float32),
                  "b2": np.zeros(n_out, np.float32)}
      ''', "biases of shape (H,) and (10,)"),
    M("init_W1_transposed", "clip32", "init_params", "q7", r"transpos|\(784, H\)|\(n_in, n_hidden\)|W1 has shape",
      '''
      def init_params(n_in, n_hidden, n_out, seed=0):
          rng = np.random.default_rng(seed)
          W1 = rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_in, n_hidden)).astype(np.float32)
          W2 = rng.normal(0.0, np.sqrt(2.0 / n_hidden), size=(n_out, n_hidden)).astype(np.float32)
          return {"W1": W1, "b1": np.zeros((n_hidden, 1), np.float32), "W2": W2, "b2": np.zeros((n_out, 1), np.float32)}
      ''', "W1 of shape (n_in, H)"),
    M("init_unscaled_randn", "he64", "init_params", "q7", r"too large|standard deviation|sqrt",
      '''
      def init_params(n_in, n_hidden, n_out, seed=0):
          rng = np.random.default_rng(seed)
          return {
              "W1": rng.standard_normal((n_hidden, n_in)),
              "b1": np.zeros((n_hidden, 1)),
              "W2": rng.standard_normal((n_out, n_hidden)),
              "b2": np.zeros((n_out, 1)),
          }
      ''', "plain standard normal weights"),
    M("init_global_rng_unseeded", "glorot_einsum", "init_params", "q7", r"seed|default_rng|global|same weights",
      '''
      def init_params(n_in, n_hidden, n_out, seed=0):
          lim1 = np.sqrt(6.0 / (n_in + n_hidden))
          lim2 = np.sqrt(6.0 / (n_hidden + n_out))
          return {"W1": np.random.uniform(-lim1, lim1, (n_hidden, n_in)).astype(DT),
                  "b1": np.zeros((n_hidden, 1), DT),
                  "W2": np.random.uniform(-lim2, lim2, (n_out, n_hidden)).astype(DT),
                  "b2": np.zeros((n_out, 1), DT)}
      ''', "the seed is ignored (global np.random)"),
    # ------------------------------------------------------------------ q8
    M("forward_without_bias", "small_randn", "forward", "q8", r"b1|bias",
      '''
      def forward(X, params, activation="relu"):
          g, _ = get_activation(activation)
          W1, W2 = params["W1"], params["W2"]
          Z1 = np.dot(W1, X)
          A1 = g(Z1)
          Z2 = np.dot(W2, A1)
          A2 = softmax(Z2)
          cache = {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}
          return A2, cache
      ''', "Z = W @ X without + b"),
    M("forward_relu_on_output", "grouped", "forward", "q8", r"softmax|sum to 1",
      '''
      def forward(X, params, activation="relu"):
          act, _ = get_activation(activation)
          Z1 = params["W1"] @ X + params["b1"]
          A1 = act(Z1)
          Z2 = params["W2"] @ A1 + params["b2"]
          A2 = act(Z2)
          cache = {}
          cache["Z1"] = Z1
          cache["A1"] = A1
          cache["Z2"] = Z2
          cache["A2"] = A2
          return A2, cache
      ''', "the hidden activation applied to the output instead of softmax"),
    M("forward_ignores_activation", "he64", "forward", "q8", r"activation|tanh|sigmoid",
      '''
      def forward(X, params, activation="relu"):
          X = np.asarray(X, dtype=F)
          Z1 = np.asarray(params["W1"], dtype=F) @ X + np.asarray(params["b1"], dtype=F)
          A1 = relu(Z1)
          Z2 = np.asarray(params["W2"], dtype=F) @ A1 + np.asarray(params["b2"], dtype=F)
          A2 = softmax(Z2)
          return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}
      ''', "always ReLU"),
    # ------------------------------------------------------------------ q9
    M("backprop_without_1_over_m", "small_randn", "backprop", "q9", r"m times|1/m|divide",
      '''
      def backprop(X, Y, params, cache, activation="relu"):
          _, g_prime = get_activation(activation)
          W2 = params["W2"]
          A1, A2, Z1 = cache["A1"], cache["A2"], cache["Z1"]
          dZ2 = A2 - Y
          dW2 = np.dot(dZ2, A1.T)
          db2 = np.sum(dZ2, axis=1, keepdims=True)
          dZ1 = np.multiply(np.dot(W2.T, dZ2), g_prime(Z1))
          dW1 = np.dot(dZ1, X.T)
          db1 = np.sum(dZ1, axis=1, keepdims=True)
          return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
      ''', "dZ2 = A2 - Y instead of cross_entropy_derivative"),
    M("backprop_db_not_summed", "inplace", "backprop", "q9", r"db|sum|shape",
      '''
      def backprop(X, Y, params, cache, activation="relu"):
          _, dg = get_activation(activation)
          dZ2 = cross_entropy_derivative(cache["A2"], Y)
          dW2 = dZ2 @ cache["A1"].T
          db2 = dZ2
          dZ1 = params["W2"].T @ dZ2
          dZ1 *= dg(cache["Z1"])
          dW1 = dZ1 @ X.T
          db1 = dZ1
          return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
      ''', "db = dZ, not summed over the samples"),
    M("backprop_wrong_transpose", "clip32", "backprop", "q9", r"transpos|shape",
      '''
      def backprop(X, Y, params, cache, activation="relu"):
          _, dg = get_activation(activation)
          dZ2 = cross_entropy_derivative(cache["A2"], Y)
          dW2 = dZ2 @ cache["A1"].T
          db2 = np.sum(dZ2, axis=1, keepdims=True)
          dZ1 = (params["W2"].T @ dZ2) * dg(cache["Z1"])
          dW1 = np.asarray(X) @ dZ1.T
          db1 = np.sum(dZ1, axis=1, keepdims=True)
          return dict(dW1=dW1, db1=db1, dW2=dW2, db2=db2)
      ''', "dW1 = X @ dZ1.T, the transpose of the gradient"),
    M("backprop_derivative_at_A1", "logsumexp", "backprop", "q9", r"A1|Z1",
      '''
      def backprop(X, Y, params, cache, activation="relu"):
          dg = ACTS[activation][1]
          dZ2 = cross_entropy_derivative(cache["A2"], Y)
          dZ1 = params["W2"].T.dot(dZ2) * dg(cache["A1"])
          return {"dW1": dZ1.dot(np.asarray(X).T), "db1": dZ1.sum(axis=1, keepdims=True),
                  "dW2": dZ2.dot(cache["A1"].T), "db2": dZ2.sum(axis=1, keepdims=True)}
      ''', "the activation's derivative evaluated at A1"),
    # ------------------------------------------------------------------ q10
    M("update_plus", "glorot_einsum", "update", "q10", r"uphill|subtract",
      '''
      def update(params, grads, learning_rate):
          out = dict(params)
          for name in ("W1", "b1", "W2", "b2"):
              out[name] = params[name] + learning_rate * grads["d" + name]
          return out
      ''', "+ instead of -"),
    M("update_in_place_returns_none", "cs231n", "update", "q10", r"None|return",
      '''
      def update(params, grads, learning_rate):
          for name in params:
              params[name] -= learning_rate * grads["d" + name]
      ''', "modifies params in place and returns None"),
    M("update_ignores_learning_rate", "rows", "update", "q10", r"learning_rate|learning rate",
      '''
      def update(params, grads, learning_rate):
          return {k: v - grads["d" + k] for k, v in params.items()}
      ''', "a step of the whole gradient"),
    # ------------------------------------------------------------------ q11
    M("gradient_check_forward_difference", "he64", "gradient_check", "q11", r"centred|centered|one-sided|forward difference",
      '''
      def gradient_check(X, Y, params, activation="relu", eps=1e-6):
          X = np.asarray(X, dtype=F)
          Y = np.asarray(Y, dtype=F)
          p = {k: np.array(v, dtype=F) for k, v in params.items()}
          grads = backprop(X, Y, p, forward(X, p, activation)[1], activation)

          def loss():
              return cross_entropy_loss(forward(X, p, activation)[0], Y)

          base = loss()
          errors = []
          for k in ("W1", "b1", "W2", "b2"):
              flat = p[k].reshape(-1)
              num = np.empty_like(flat)
              for i in range(flat.size):
                  keep = flat[i]
                  flat[i] = keep + eps
                  num[i] = (loss() - base) / eps
                  flat[i] = keep
              ana = np.asarray(grads["d" + k], dtype=F).reshape(-1)
              scale = np.linalg.norm(num) + np.linalg.norm(ana)
              errors.append(0.0 if scale == 0 else np.linalg.norm(num - ana) / scale)
          return float(np.max(errors))
      ''', "one-sided differences"),
    M("gradient_check_divides_by_eps", "grouped", "gradient_check", "q11", r"2 ?eps|2 ?\* ?eps|centred|centered",
      '''
      def gradient_check(X, Y, params, activation="relu", eps=1e-6):
          X = X.astype(np.float64)
          Y = Y.astype(np.float64)
          p = {}
          for k in params:
              p[k] = params[k].astype(np.float64).copy()
          A2, cache = forward(X, p, activation)
          grads = backprop(X, Y, p, cache, activation)
          max_error = 0.0
          for k in ["W1", "b1", "W2", "b2"]:
              num = np.zeros(p[k].shape)
              rows, cols = p[k].shape
              for i in range(rows):
                  for j in range(cols):
                      old = p[k][i, j]
                      p[k][i, j] = old + eps
                      loss_plus = cross_entropy_loss(forward(X, p, activation)[0], Y)
                      p[k][i, j] = old - eps
                      loss_minus = cross_entropy_loss(forward(X, p, activation)[0], Y)
                      p[k][i, j] = old
                      num[i, j] = (loss_plus - loss_minus) / eps
              diff = np.linalg.norm(num - grads["d" + k])
              total = np.linalg.norm(num) + np.linalg.norm(grads["d" + k])
              if total > 0:
                  error = diff / total
                  if error > max_error:
                      max_error = error
          return max_error
      ''', "centred difference divided by eps instead of 2 eps"),
    M("gradient_check_absolute_error", "small_randn", "gradient_check", "q11", r"relative|absolute|\|\||norm",
      '''
      def gradient_check(X, Y, params, activation="relu", eps=1e-6):
          X = X.astype(np.float64)
          Y = Y.astype(np.float64)
          params = {k: v.astype(np.float64) for k, v in params.items()}
          A2, cache = forward(X, params, activation)
          grads = backprop(X, Y, params, cache, activation)
          errors = []
          for key in ("W1", "b1", "W2", "b2"):
              numeric = np.zeros(params[key].shape)
              for i in range(params[key].shape[0]):
                  for j in range(params[key].shape[1]):
                      original = params[key][i, j]
                      params[key][i, j] = original + eps
                      plus = cross_entropy_loss(forward(X, params, activation)[0], Y)
                      params[key][i, j] = original - eps
                      minus = cross_entropy_loss(forward(X, params, activation)[0], Y)
                      params[key][i, j] = original
                      numeric[i, j] = (plus - minus) / (2 * eps)
              errors.append(np.linalg.norm(numeric - grads["d" + key]))
          return max(errors)
      ''', "||numeric - analytic|| without dividing by the norms"),
    M("gradient_check_in_float32", "rows", "gradient_check", "q11", r"float64|float32",
      '''
      def gradient_check(X, Y, params, activation="relu", eps=1e-6):
          Xr = np.asarray(X).T
          Tr = np.asarray(Y).T
          P = {k: np.array(v) for k, v in params.items()}

          def loss():
              probs = _forward_rows(Xr, P, activation)[3]
              return cross_entropy_loss(probs.T, Tr.T)

          Z1, A1, _, probs = _forward_rows(Xr, P, activation)
          grads = _backprop_rows(Xr, Tr, P, Z1, A1, probs, activation)
          worst = 0.0
          for key, value in P.items():
              numerical = np.zeros_like(value)
              for index in np.ndindex(value.shape):
                  original = value[index]
                  value[index] = original + eps
                  f_plus = loss()
                  value[index] = original - eps
                  f_minus = loss()
                  value[index] = original
                  numerical[index] = (f_plus - f_minus) / (2 * eps)
              analytic = grads["d" + key]
              bottom = np.linalg.norm(numerical) + np.linalg.norm(analytic)
              if bottom > 0:
                  worst = max(worst, np.linalg.norm(numerical - analytic) / bottom)
          return float(worst)
      ''', "kept in the inputs' dtype: float32 rounding swallows eps"),
    # ------------------------------------------------------------------ q12
    M("train_never_shuffles", "class", "train", "q12", r"shuffl|permutation|data order",
      '''
      def train(X, Y, X_val, Y_val, hidden_neurons, learning_rate, epochs, batch_size=64, seed=0,
                activation="relu", eval_every=100):
          X, Y = np.asarray(X, np.float32), np.asarray(Y, np.float32)
          X_val, Y_val = np.asarray(X_val, np.float32), np.asarray(Y_val, np.float32)
          net = Network(init_params(X.shape[0], hidden_neurons, Y.shape[0], seed=seed), activation)
          history = dict(train_loss=[], train_error=[], val_step=[], val_loss=[], val_error=[])
          updates = 0
          for epoch in range(epochs):
              for batch in np.array_split(np.arange(X.shape[1]), int(np.ceil(X.shape[1] / batch_size))):
                  xb, yb = X[:, batch], Y[:, batch]
                  probs = net.forward(xb)
                  history["train_loss"].append(cross_entropy_loss(probs, yb))
                  history["train_error"].append(float(np.mean(probs.argmax(0) != yb.argmax(0))))
                  net.backward(xb, yb)
                  net.step(learning_rate)
                  updates += 1
                  if updates % eval_every == 0:
                      pv = Network(net.params(), activation).forward(X_val)
                      history["val_step"].append(updates)
                      history["val_loss"].append(cross_entropy_loss(pv, Y_val))
                      history["val_error"].append(float(np.mean(pv.argmax(0) != Y_val.argmax(0))))
          return net.params(), history
      ''', "minibatches in data order"),
    M("train_ignores_learning_rate", "cs231n", "train", "q12", r"learning_rate|learning rate",
      '''
      def train(X, Y, X_val, Y_val, hidden_neurons, learning_rate, epochs, batch_size=64, seed=0,
                activation="relu", eval_every=100):
          rng = np.random.default_rng(seed)
          params = init_params(X.shape[0], hidden_neurons, Y.shape[0], seed=seed)
          history = {"train_loss": [], "train_error": [], "val_step": [], "val_loss": [], "val_error": []}
          m = X.shape[1]
          step = 0
          for _ in range(epochs):
              order = rng.permutation(m)
              for start in range(0, m, batch_size):
                  idx = order[start:start + batch_size]
                  xb, yb = X[:, idx], Y[:, idx]
                  A2, cache = forward(xb, params, activation)
                  history["train_loss"].append(cross_entropy_loss(A2, yb))
                  history["train_error"].append(float(np.mean(A2.argmax(axis=0) != yb.argmax(axis=0))))
                  params = update(params, backprop(xb, yb, params, cache, activation), 0.05)
                  step += 1
                  if step % eval_every == 0:
                      Av, _ = forward(X_val, params, activation)
                      history["val_step"].append(step)
                      history["val_loss"].append(cross_entropy_loss(Av, Y_val))
                      history["val_error"].append(float(np.mean(Av.argmax(axis=0) != np.asarray(Y_val).argmax(axis=0))))
          return params, history
      ''', "a hard-coded step size"),
    M("train_one_epoch_only", "inplace", "train", "q12", r"epoch|updates|entries",
      '''
      def train(X, Y, X_val, Y_val, hidden_neurons, learning_rate, epochs, batch_size=64, seed=0,
                activation="relu", eval_every=100):
          X = np.asarray(X, dtype=np.float32)
          Y = np.asarray(Y, dtype=np.float32)
          params = init_params(X.shape[0], hidden_neurons, Y.shape[0], seed)
          rng = np.random.default_rng(seed)
          history = {"train_loss": [], "train_error": [], "val_step": [], "val_loss": [], "val_error": []}
          val_true = np.asarray(Y_val).argmax(axis=0)
          m = X.shape[1]
          order = np.arange(m)
          step = 0
          rng.shuffle(order)
          for s in range(0, m, batch_size):
              batch = order[s:s + batch_size]
              Xb = X[:, batch]
              Yb = Y[:, batch]
              A2, cache = forward(Xb, params, activation)
              history["train_loss"].append(cross_entropy_loss(A2, Yb))
              history["train_error"].append(float(np.mean(A2.argmax(axis=0) != Yb.argmax(axis=0))))
              _sgd_in_place(params, backprop(Xb, Yb, params, cache, activation), learning_rate)
              step += 1
              if step % eval_every == 0:
                  Av, _ = forward(np.asarray(X_val, dtype=np.float32), params, activation)
                  history["val_step"].append(step)
                  history["val_loss"].append(cross_entropy_loss(Av, Y_val))
                  history["val_error"].append(float(np.mean(Av.argmax(axis=0) != val_true)))
          return params, history
      ''', "the epochs loop forgotten"),
    M("train_same_permutation_every_epoch", "logsumexp", "train", "q12", r"each epoch|every epoch|same minibatches|new permutation",
      '''
      def train(X, Y, X_val, Y_val, hidden_neurons, learning_rate, epochs, batch_size=64, seed=0,
                activation="relu", eval_every=100):
          X = np.asarray(X, np.float32)
          Y = np.asarray(Y, np.float32)
          params = init_params(X.shape[0], hidden_neurons, Y.shape[0], seed=seed)
          rng = np.random.default_rng(seed)
          history = {"train_loss": [], "train_error": [], "val_step": [], "val_loss": [], "val_error": []}
          val_y = np.asarray(Y_val).argmax(0)
          n_batches = max(1, X.shape[1] // batch_size)
          step = 0
          perm = rng.permutation(X.shape[1])
          for _ in range(epochs):
              for b in range(n_batches):
                  cols = perm[b * batch_size:(b + 1) * batch_size]
                  xb, yb = X[:, cols], Y[:, cols]
                  A2, cache = forward(xb, params, activation)
                  history["train_loss"].append(cross_entropy_loss(A2, yb))
                  history["train_error"].append(float(np.mean(A2.argmax(0) != yb.argmax(0))))
                  params = update(params, backprop(xb, yb, params, cache, activation), learning_rate)
                  step += 1
                  if step % eval_every == 0:
                      Av = forward(X_val, params, activation)[0]
                      history["val_step"].append(step)
                      history["val_loss"].append(cross_entropy_loss(Av, Y_val))
                      history["val_error"].append(float(np.mean(Av.argmax(0) != val_y)))
          return params, history
      ''', "one permutation drawn before the epochs loop"),
    # ------------------------------------------------------------------ q13
    M("predict_argmax_axis1", "glorot_einsum", "predict", "q13", r"axis|10 values|one label|per column|column",
      '''
      def predict(X, params, activation="relu"):
          return np.argmax(forward(X, params, activation)[0], axis=1)
      ''', "argmax over the classes' axis mixed up"),
    M("accuracy_counts", "he64", "accuracy", "q13", r"number of correct|divide",
      '''
      def accuracy(predictions, labels):
          predictions = np.asarray(predictions).ravel()
          labels = np.asarray(labels).ravel()
          return float(np.count_nonzero(predictions == labels))
      ''', "the number of correct predictions, not the fraction"),
    M("confusion_matrix_transposed", "small_randn", "confusion_matrix", "q13", r"transpos|rows must be the true|true class",
      '''
      def confusion_matrix(y_true, y_pred, n_classes=10):
          matrix = np.zeros((n_classes, n_classes), dtype=int)
          for t, p in zip(y_true, y_pred):
              matrix[int(p), int(t)] += 1
          return matrix
      ''', "cm[predicted, true]"),
    M("precision_recall_swapped", "clip32", "per_class_report", "q13", r"swap",
      '''
      def per_class_report(cm):
          cm = np.asarray(cm, dtype=np.float64)
          tp = np.diag(cm)
          with np.errstate(divide="ignore", invalid="ignore"):
              precision = np.where(cm.sum(1) > 0, tp / cm.sum(1), 0.0)
              recall = np.where(cm.sum(0) > 0, tp / cm.sum(0), 0.0)
              f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
          return {"precision": precision, "recall": recall, "f1": f1}
      ''', "precision from the row sums, recall from the column sums"),
    M("f1_arithmetic_mean", "grouped", "per_class_report", "q13", r"harmonic|arithmetic",
      '''
      def per_class_report(cm):
          n = cm.shape[0]
          precision = []
          recall = []
          f1 = []
          for k in range(n):
              tp = cm[k][k]
              predicted = 0
              actual = 0
              for i in range(n):
                  predicted += cm[i][k]
                  actual += cm[k][i]
              p = tp / predicted if predicted > 0 else 0.0
              r = tp / actual if actual > 0 else 0.0
              precision.append(p)
              recall.append(r)
              f1.append((p + r) / 2)
          return {"precision": np.array(precision), "recall": np.array(recall), "f1": np.array(f1)}
      ''', "F1 as the arithmetic mean of precision and recall"),
    M("predict_ignores_activation", "rows", "predict", "q13", r"activation|tanh",
      '''
      def predict(X, params, activation="relu"):
          return _forward_rows(np.asarray(X).T, params, "relu")[3].argmax(axis=1)
      ''', "predict always uses ReLU"),
]

BY_NAME = {m.name: m for m in MISTAKES}
assert len(BY_NAME) == len(MISTAKES), "mistake names must be unique"
