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
def test_backprop_values(backprop):
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
    dZ2 = (A2 - Y) / m
    dZ1 = P['W2'].T @ dZ2 * (Z1 > 0)
    expected = {'dW2': dZ2 @ A1.T, 'db2': dZ2.sum(axis=1, keepdims=True), 'dW1': dZ1 @ X.T, 'db1': dZ1.sum(axis=1, keepdims=True)}
    grads = backprop(X, Y, P, {'Z1': Z1, 'A1': A1, 'Z2': Z2, 'A2': A2})
    assert grads is not None, 'backprop returned None: not implemented yet?'
    for key in ('dW2', 'db2', 'dW1', 'db1'):
        got = np.asarray(grads[key], dtype=np.float64)
        want = expected[key]
        assert got.shape == want.shape, f'{key} has shape {got.shape}, expected {want.shape}'
        if np.allclose(got, m * want):
            raise AssertionError(f'{key} is m times too large: missing 1/m? (use cross_entropy_derivative, which divides by m)')
        if np.allclose(got, want / m):
            raise AssertionError(f'{key} is m times too small: you divided by m twice (cross_entropy_derivative already includes 1/m)')
        if np.allclose(got, -want):
            raise AssertionError(f'{key} has the wrong sign: dZ2 = (A2 - Y) / m')
        if key == 'dW2':
            assert np.allclose(got, want), 'dW2 is wrong: dW2 = dZ2 @ A1.T with dZ2 = cross_entropy_derivative(A2, Y)'
        if key == 'db2':
            assert np.allclose(got, want), 'db2 is wrong: db2 = dZ2 summed over the samples (axis=1, keepdims=True)'
        assert np.allclose(got, want), f'dW2 and db2 are right but {key} is not: dZ1 = (W2.T @ dZ2) * relu_derivative(Z1), dW1 = dZ1 @ X.T, db1 = dZ1.sum(axis=1, keepdims=True)'

@test_case(points=None, hidden=False)
def test_backprop_uses_the_activation_at_Z1(backprop):
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
    dZ2 = (A2 - Y) / m
    back = P['W2'].T @ dZ2
    right = back * sig(Z1) * (1 - sig(Z1)) @ X.T
    at_A1 = back * sig(A1) * (1 - sig(A1)) @ X.T
    relu_slope = back * (Z1 > 0) @ X.T
    grads = backprop(X, Y, P, {'Z1': Z1, 'A1': A1, 'Z2': Z2, 'A2': A2}, activation='sigmoid')
    assert grads is not None, 'backprop returned None: not implemented yet?'
    dW1 = np.asarray(grads['dW1'], dtype=np.float64)
    if np.allclose(dW1, at_A1):
        raise AssertionError("backprop evaluated the activation derivative at A1 instead of Z1: pass cache['Z1'] to the derivative")
    if np.allclose(dW1, relu_slope):
        raise AssertionError("backprop ignored activation='sigmoid': take the derivative from get_activation(activation)")
    assert np.allclose(dW1, right), "with activation='sigmoid', dW1 must use sigmoid_derivative(Z1)"

