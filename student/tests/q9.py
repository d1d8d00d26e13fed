from otter.test_files import test_case

OK_FORMAT = False

name = "q9"
points = 4

@test_case(points=None, hidden=False)
def test_backprop_shapes(backprop):
    import os
    import numpy as np
    assert backprop is not None, 'backprop is not defined: run the cell that defines it'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    H, m = (6, 5)
    P = {'W1': rng.normal(0, 0.05, (H, 784)), 'b1': rng.normal(0, 0.1, (H, 1)), 'W2': rng.normal(0, 0.5, (10, H)), 'b2': rng.normal(0, 0.1, (10, 1))}
    X = rng.random((784, m))
    Y = np.eye(10)[:, rng.integers(0, 10, size=m)]
    Z1 = P['W1'] @ X + P['b1']
    A1 = np.maximum(Z1, 0)
    Z2 = P['W2'] @ A1 + P['b2']
    A2 = np.exp(Z2 - Z2.max(axis=0))
    A2 = A2 / A2.sum(axis=0)
    grads = backprop(X, Y, P, {'Z1': Z1, 'A1': A1, 'Z2': Z2, 'A2': A2})
    assert grads is not None, 'backprop returned None: not implemented yet?'
    assert isinstance(grads, dict) and all((k in grads for k in ('dW1', 'db1', 'dW2', 'db2'))), 'backprop must return a dict with the keys dW1, db1, dW2, db2'
    shapes = {k: np.asarray(grads[k]).shape for k in ('dW1', 'db1', 'dW2', 'db2')}
    assert shapes['dW1'] != (784, H), 'dW1 has shape (784, H): transposed - dW1 = dZ1 @ X.T has the shape of W1, (H, 784)'
    assert shapes['dW2'] != (H, 10), 'dW2 has shape (H, 10): transposed - dW2 = dZ2 @ A1.T has the shape of W2, (10, H)'
    assert shapes['db1'] != (H,), 'db1 has shape (H,): sum over axis=1 with keepdims=True so that it has the shape of b1, (H, 1)'
    assert shapes['db2'] != (10,), 'db2 has shape (10,): sum over axis=1 with keepdims=True so that it has the shape of b2, (10, 1)'
    expected = {'dW1': (H, 784), 'db1': (H, 1), 'dW2': (10, H), 'db2': (10, 1)}
    for key, shape in expected.items():
        assert shapes[key] == shape, f'{key} has shape {shapes[key]}, expected {shape} (the shape of the parameter)'

@test_case(points=None, hidden=False)
def test_backprop_values(backprop, cross_entropy_derivative, relu_derivative):
    import os
    import numpy as np
    assert backprop is not None, 'backprop is not defined: run the cell that defines it'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    H, m = (6, 5)
    P = {'W1': rng.normal(0, 0.05, (H, 784)), 'b1': rng.normal(0, 0.1, (H, 1)), 'W2': rng.normal(0, 0.5, (10, H)), 'b2': rng.normal(0, 0.1, (10, 1))}
    X = rng.random((784, m))
    Y = np.eye(10)[:, rng.integers(0, 10, size=m)]
    Z1 = P['W1'] @ X + P['b1']
    A1 = np.maximum(Z1, 0)
    Z2 = P['W2'] @ A1 + P['b2']
    A2 = np.exp(Z2 - Z2.max(axis=0))
    A2 = A2 / A2.sum(axis=0)

    def own(f, *args):
        try:
            value = np.asarray(f(*args), dtype=np.float64)
        except Exception:
            return None
        return value if value.shape == args[0].shape and np.all(np.isfinite(value)) and np.any(value) else None

    def chain(dZ2, slope):
        dZ1 = P['W2'].T @ dZ2 * slope
        return {'dW2': dZ2 @ A1.T, 'db2': dZ2.sum(axis=1, keepdims=True), 'dW1': dZ1 @ X.T, 'db1': dZ1.sum(axis=1, keepdims=True)}
    reference = chain((A2 - Y) / m, (Z1 > 0).astype(float))
    variants = [reference]
    dZ2_own = own(cross_entropy_derivative, A2, Y) if cross_entropy_derivative is not None else None
    slope_own = own(relu_derivative, Z1) if relu_derivative is not None else None
    for dZ2 in ((A2 - Y) / m, dZ2_own):
        for slope in ((Z1 > 0).astype(float), slope_own):
            if dZ2 is not None and slope is not None:
                variants.append(chain(dZ2, slope))
    grads = backprop(X, Y, P, {'Z1': Z1, 'A1': A1, 'Z2': Z2, 'A2': A2})
    assert grads is not None, 'backprop returned None: not implemented yet?'
    assert isinstance(grads, dict) and all((k in grads for k in ('dW1', 'db1', 'dW2', 'db2'))), 'backprop must return a dict with the keys dW1, db1, dW2, db2'
    got = {k: np.asarray(grads[k], dtype=np.float64) for k in ('dW2', 'db2', 'dW1', 'db1')}

    def near(a, b):
        return a.shape == b.shape and bool(np.allclose(a, b, rtol=0.0001, atol=1e-07))
    if any((all((near(got[k], v[k]) for k in got)) for v in variants)):
        return
    for key in ('dW2', 'db2', 'dW1', 'db1'):
        want = reference[key]
        assert got[key].shape == want.shape, f'{key} has shape {got[key].shape}, expected {want.shape}, the shape of the parameter'
        if near(got[key], want):
            continue
        if near(got[key], m * want):
            raise AssertionError(f'{key} is m times too large: the gradient of the MEAN loss carries a factor 1/m')
        if near(got[key], want / m):
            raise AssertionError(f'{key} is m times too small: the factor 1/m was applied twice')
        if near(got[key], -want):
            raise AssertionError(f'{key} has the wrong sign: the output gradient is A2 - Y, scaled by 1/m')
        if key in ('db2', 'db1') and got[key].size == want.size * m:
            raise AssertionError(f'{key} was not summed over the samples: a bias gradient adds up the contributions of all m columns')
        if key in ('dW2', 'db2'):
            raise AssertionError(f"{key} is wrong: the output layer's gradients come from dZ2 = (A2 - Y) / m and the hidden activations A1")
        raise AssertionError(f'dW2 and db2 are right but {key} is not: the error reaches the hidden layer through W2 (transposed) and the slope of the activation at Z1')

@test_case(points=None, hidden=False)
def test_backprop_uses_the_activation_at_Z1(backprop, sigmoid_derivative):
    import os
    import numpy as np
    assert backprop is not None, 'backprop is not defined: run the cell that defines it'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    H, m = (6, 5)
    P = {'W1': rng.normal(0, 0.1, (H, 784)), 'b1': rng.normal(0, 0.5, (H, 1)), 'W2': rng.normal(0, 0.5, (10, H)), 'b2': rng.normal(0, 0.1, (10, 1))}
    X = rng.random((784, m))
    Y = np.eye(10)[:, rng.integers(0, 10, size=m)]

    def sig(z):
        return 1 / (1 + np.exp(-z))
    Z1 = P['W1'] @ X + P['b1']
    A1 = sig(Z1)
    Z2 = P['W2'] @ A1 + P['b2']
    A2 = np.exp(Z2 - Z2.max(axis=0))
    A2 = A2 / A2.sum(axis=0)
    back = P['W2'].T @ (A2 - Y)
    right = back * sig(Z1) * (1 - sig(Z1)) @ X.T
    at_A1 = back * sig(A1) * (1 - sig(A1)) @ X.T
    relu_slope = back * (Z1 > 0) @ X.T
    grads = backprop(X, Y, P, {'Z1': Z1, 'A1': A1, 'Z2': Z2, 'A2': A2}, activation='sigmoid')
    assert grads is not None, 'backprop returned None: not implemented yet?'
    dW1 = np.asarray(grads['dW1'], dtype=np.float64)
    assert dW1.shape == right.shape, f'dW1 has shape {dW1.shape}, expected {right.shape}'

    def parallel(a, b):
        na, nb = (np.linalg.norm(a), np.linalg.norm(b))
        return na > 0 and nb > 0 and (np.linalg.norm(a / na - b / nb) < 0.0001)
    if parallel(dW1, right):
        return
    try:
        own = np.asarray(sigmoid_derivative(Z1), dtype=np.float64)
        if own.shape == Z1.shape and np.all(np.isfinite(own)) and parallel(dW1, back * own @ X.T):
            return
    except Exception:
        pass
    if parallel(dW1, at_A1):
        raise AssertionError("backprop evaluated the activation's derivative at A1: the derivative takes the pre-activation Z1")
    if parallel(dW1, relu_slope):
        raise AssertionError("backprop ignored activation='sigmoid': the derivative must be the one of the activation asked for")
    raise AssertionError("with activation='sigmoid', dW1 must use the slope of sigmoid at Z1")

