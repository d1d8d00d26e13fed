from otter.test_files import test_case

OK_FORMAT = False

name = "q11"
points = 2

@test_case(points=None, hidden=False)
def test_gradient_check_centred(gradient_check, backprop):
    import os
    import numpy as np
    assert gradient_check is not None, 'gradient_check is not defined: run the cell that defines it'
    assert backprop is not None, 'backprop is not defined: do q9 first'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    n_in, H, m = (5, 4, 3)
    P = {'W1': rng.normal(0, 0.8, (H, n_in)), 'b1': rng.normal(0, 0.3, (H, 1)), 'W2': rng.normal(0, 0.8, (10, H)), 'b2': rng.normal(0, 0.3, (10, 1))}
    X = rng.normal(0, 1, (n_in, m))
    Y = np.eye(10)[:, rng.integers(0, 10, size=m)]
    Z1 = P['W1'] @ X + P['b1']
    A1 = np.tanh(Z1)
    Z2 = P['W2'] @ A1 + P['b2']
    A2 = np.exp(Z2 - Z2.max(axis=0))
    A2 = A2 / A2.sum(axis=0)
    dZ2 = (A2 - Y) / m
    grads = backprop(X, Y, P, {'Z1': Z1, 'A1': A1, 'Z2': Z2, 'A2': A2}, activation='tanh')
    assert grads is not None and np.allclose(np.asarray(grads['dW1'], dtype=np.float64), P['W2'].T @ dZ2 * (1 - A1 ** 2) @ X.T), "backprop (q9) is not right yet for activation='tanh': fix it first, gradient_check compares against it"
    result = gradient_check(X, Y, P, activation='tanh', eps=0.0001)
    assert result is not None, 'gradient_check returned None: not implemented yet?'
    result = np.asarray(result, dtype=np.float64)
    assert result.size == 1, f'gradient_check returned an array of shape {result.shape}: return one number, the largest relative error'
    result = float(result)
    assert np.isfinite(result) and result >= 0, f'gradient_check returned {result}: a relative error is a finite number >= 0'
    assert result < 1e-05, f'gradient_check returned {result:.1e} with eps=1e-4 although backprop is correct: use centred differences (L(theta + eps) - L(theta - eps)) / (2 eps), not one-sided ones, and put every entry back after perturbing it'

@test_case(points=None, hidden=False)
def test_gradient_check_uses_float64(gradient_check):
    import os
    import numpy as np
    assert gradient_check is not None, 'gradient_check is not defined: run the cell that defines it'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    n_in, H, m = (5, 4, 3)
    P = {'W1': rng.normal(0, 0.8, (H, n_in)), 'b1': rng.normal(0, 0.3, (H, 1)), 'W2': rng.normal(0, 0.8, (10, H)), 'b2': rng.normal(0, 0.3, (10, 1))}
    X = rng.normal(0, 1, (n_in, m))
    Y = np.eye(10)[:, rng.integers(0, 10, size=m)]
    as32 = {k: v.astype(np.float32) for k, v in P.items()}
    result = gradient_check(X.astype(np.float32), Y.astype(np.float32), as32, activation='tanh')
    assert result is not None, 'gradient_check returned None: not implemented yet?'
    result = float(np.asarray(result, dtype=np.float64))
    assert result < 1e-05, f'with float32 inputs gradient_check reported {result:.1e}: convert X, Y and the parameters to float64 inside gradient_check - a change of eps = 1e-6 is lost in float32 rounding'

