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
    Z1 = rng.normal(0, 1, (H, m))
    cache = {'Z1': Z1, 'A1': np.abs(Z1) * (Z1 > 0.5), 'Z2': rng.normal(0, 1, (10, m)), 'A2': rng.dirichlet(np.ones(10), size=m).T}
    grads = backprop(X, Y, P, cache)
    assert grads is not None, 'backprop returned None: not implemented yet?'
    assert isinstance(grads, dict) and all((k in grads for k in ('dW1', 'db1', 'dW2', 'db2'))), 'backprop must return a dict with the keys dW1, db1, dW2, db2'
    shapes = {k: np.asarray(grads[k]).shape for k in ('dW1', 'db1', 'dW2', 'db2')}
    assert shapes['dW1'] != (784, H), 'dW1 has shape (784, H): transposed - every gradient has the shape of its parameter, W1 is (H, 784)'
    assert shapes['dW2'] != (H, 10), 'dW2 has shape (H, 10): transposed - every gradient has the shape of its parameter, W2 is (10, H)'
    assert shapes['db1'] != (H,), 'db1 has shape (H,): keep the summed axis so that it has the shape of b1, (H, 1)'
    assert shapes['db2'] != (10,), 'db2 has shape (10,): keep the summed axis so that it has the shape of b2, (10, 1)'
    expected = {'dW1': (H, 784), 'db1': (H, 1), 'dW2': (10, H), 'db2': (10, 1)}
    for key, shape in expected.items():
        assert shapes[key] == shape, f'{key} has shape {shapes[key]}, expected {shape} (the shape of the parameter)'
    values = [np.asarray(grads[k], dtype=np.float64) for k in ('dW1', 'db1', 'dW2', 'db2')]
    assert all((np.all(np.isfinite(v)) for v in values)), 'backprop returned nan or inf'
    assert np.ptp(values[2]) > 0 and np.ptp(values[0]) > 0, 'backprop returned the same number everywhere: the gradients depend on X, Y and the parameters'

@test_case(points=None, hidden=False)
def test_backprop_values(backprop, cross_entropy_derivative, relu_derivative):
    import os
    import numpy as np
    import nn_data
    assert backprop is not None, 'backprop is not defined: run the cell that defines it'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    H, m = (6, 5)
    P = {'W1': rng.normal(0, 0.05, (H, 784)), 'b1': rng.normal(0, 0.1, (H, 1)), 'W2': rng.normal(0, 0.5, (10, H)), 'b2': rng.normal(0, 0.1, (10, 1))}
    X = rng.random((784, m))
    X[0] = 1.0
    Y = np.eye(10)[:, rng.integers(0, 10, size=m)]
    Z1 = rng.normal(0, 1, (H, m))
    Z1[0] = -1.0
    A1 = np.abs(rng.normal(0, 1, (H, m))) * (Z1 > 0.25)
    A1[1] = 1.0
    Z1[1] = 1.0
    cache = {'Z1': Z1, 'A1': A1, 'Z2': rng.normal(0, 1, (10, m)), 'A2': rng.dirichlet(np.ones(10), size=m).T}

    def grads_for(X, Y, cache):
        g = backprop(X, Y, P, {k: v.copy() for k, v in cache.items()})
        assert g is not None, 'backprop returned None: not implemented yet?'
        assert isinstance(g, dict) and all((k in g for k in ('dW1', 'db1', 'dW2', 'db2'))), 'backprop must return a dict with the keys dW1, db1, dW2, db2'
        out = {k: np.asarray(g[k], dtype=np.float64) for k in ('dW1', 'db1', 'dW2', 'db2')}
        for k, v in out.items():
            want = P[k[1:]].shape
            if k.startswith('db') and v.size == want[0]:
                out[k] = v.reshape(want)
            assert out[k].shape == want, f'{k} has shape {v.shape}, expected {want}: every gradient has the shape of its parameter'
        return out
    g = grads_for(X, Y, cache)
    assert all((np.all(np.isfinite(v)) for v in g.values())), 'backprop returned nan or inf'
    assert np.any(g['dW2'] != 0) and np.any(g['dW1'] != 0), 'backprop returned zero gradients: not implemented yet?'
    if g['db2'].size == 10:
        assert abs(g['db2'].sum()) < 1e-06 * (1 + np.abs(g['db2']).sum()), 'db2 must add up to 0 over the classes: for every sample the output error A2 - Y sums to 0'
    assert np.allclose(g['dW2'][:, 1], g['db2'].ravel(), atol=1e-07), 'a hidden unit that is 1 for every sample must get dW2[:, unit] = db2: dW2 weighs the output error by A1, db2 adds it up over the samples'
    assert np.allclose(g['dW1'][:, 0], g['db1'].ravel(), atol=1e-07), 'a pixel that is 1 in every image must get dW1[:, pixel] = db1: dW1 weighs the hidden error by X, db1 adds it up over the samples'
    try:
        off_slope = float(np.abs(np.asarray(relu_derivative(Z1), dtype=np.float64)[0]).sum())
    except Exception:
        off_slope = 0.0
    assert off_slope != 0 or (np.allclose(g['dW1'][0], 0) and np.allclose(g['db1'][0], 0)), 'dW2 and db2 are right but dW1 is not: a hidden unit that is off (Z1 < 0) for every sample must get no gradient - the error reaches the hidden layer through the slope of the activation at Z1'
    twice = grads_for(np.hstack([X, X]), np.hstack([Y, Y]), {k: np.hstack([v, v]) for k, v in cache.items()})
    expected_ratio = 1.0
    if cross_entropy_derivative is not None:
        try:
            one = np.abs(np.asarray(cross_entropy_derivative(cache['A2'], Y), dtype=np.float64)).sum()
            two = np.abs(np.asarray(cross_entropy_derivative(np.hstack([cache['A2']] * 2), np.hstack([Y, Y])), dtype=np.float64)).sum()
            if one > 0 and np.isfinite(two / one):
                expected_ratio = two / one
        except Exception:
            pass
    ratio = np.abs(twice['dW2']).sum() / max(np.abs(g['dW2']).sum(), 1e-300)
    if not np.isclose(ratio, expected_ratio, rtol=0.001):
        if np.isclose(ratio, 2 * expected_ratio, rtol=0.001):
            raise AssertionError('dW2 is m times too large: missing 1/m? The gradient of the mean loss carries a factor 1/m')
        if np.isclose(ratio, 0.5 * expected_ratio, rtol=0.001):
            raise AssertionError('the gradients are m times too small: you divided by m twice (the loss derivative already includes 1/m)')
        raise AssertionError('the gradients must be those of the MEAN loss: the same batch twice must give the same gradients')
    nn_data.golden_check('test_backprop_values', 'dW1', g['dW1'], 'dW1 differs from the expected values')
    nn_data.golden_check('test_backprop_values', 'dW2', g['dW2'], 'dW2 differs from the expected values')

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
    Z1 = rng.normal(0, 1.5, (H, m))
    cache = {'Z1': Z1, 'A1': rng.random((H, m)), 'Z2': rng.normal(0, 1, (10, m)), 'A2': rng.dirichlet(np.ones(10), size=m).T}

    def dW1(cache, activation):
        g = backprop(X, Y, P, {k: v.copy() for k, v in cache.items()}, activation=activation)
        assert g is not None, 'backprop returned None: not implemented yet?'
        return np.asarray(g['dW1'], dtype=np.float64)
    sigmoid_grad = dW1(cache, 'sigmoid')
    assert np.all(np.isfinite(sigmoid_grad)) and np.any(sigmoid_grad != 0), "with activation='sigmoid' backprop returned zero or non-finite dW1"
    moved = dict(cache, A1=cache['A1'] + rng.random((H, m)))
    if not np.allclose(dW1(moved, 'sigmoid'), sigmoid_grad):
        raise AssertionError("dW1 changed when only cache['A1'] changed: backprop evaluated the activation's derivative at A1 instead of Z1 (the derivative takes the pre-activation)")
    if np.allclose(dW1(cache, 'relu'), sigmoid_grad):
        raise AssertionError("backprop ignored activation='sigmoid': the derivative must be the one of the activation asked for")

@test_case(points=None, hidden=True)
def test_backprop_matches_finite_differences(backprop, cross_entropy_derivative, relu_derivative, sigmoid_derivative, tanh_derivative):
    import numpy as np
    import nn_checks as ck
    assert backprop is not None, 'backprop is not defined'
    rng = ck.rng_for_test()
    n_in, H, m = (6, 5, 4)
    slopes = {'relu': relu_derivative, 'sigmoid': sigmoid_derivative, 'tanh': tanh_derivative}
    for name in ('relu', 'sigmoid', 'tanh'):
        P = ck.random_params(rng, n_in, H, scale=(0.7, 0.3, 0.7, 0.3))
        X = rng.normal(0, 1, (n_in, m))
        Y = ck.one_hot_columns(rng.integers(0, 10, size=m))
        if name == 'relu':
            Z1 = P['W1'] @ X + P['b1']
            P['b1'] += np.where(np.abs(Z1).min(axis=1, keepdims=True) < 0.05, 0.2, 0.0)
        A2, cache = ck.forward(X, P, name)
        grads = backprop(X, Y, P, {k: v.copy() for k, v in cache.items()}, activation=name)
        assert isinstance(grads, dict) and all((k in grads for k in ('dW1', 'db1', 'dW2', 'db2'))), 'backprop must return a dict with dW1, db1, dW2, db2'
        got = {k: ck.finite(ck.arr(grads[k], f"backprop's {k}"), f"backprop's {k}") for k in ('dW1', 'db1', 'dW2', 'db2')}
        dZ2_own = ck.usable(ck.try_student(cross_entropy_derivative, A2, Y))
        slope_own = ck.usable(ck.try_student(slopes[name], cache['Z1']))
        truths = []
        for dZ2 in (None, dZ2_own):
            for slope in (None, slope_own):
                if (dZ2 is None or dZ2.shape == A2.shape) and (slope is None or slope.shape == cache['Z1'].shape):
                    truths.append(ck.backprop(X, Y, P, cache, name, dZ2=dZ2, g_prime=slope))
        ok = any((all((got[k].size == t[k].size and ck.relative_error(got[k].reshape(t[k].shape), t[k]) < 1e-05 for k in t)) for t in truths))
        assert ok, f"backprop's gradients disagree with the derivative of the mean loss for activation='{name}'"

