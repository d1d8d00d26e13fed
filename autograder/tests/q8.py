from otter.test_files import test_case

OK_FORMAT = False

name = "q8"
points = 2

@test_case(points=None, hidden=False)
def test_forward_shapes_and_cache(forward, softmax):
    import os
    import numpy as np
    assert forward is not None, 'forward is not defined: run the cell that defines it'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    H, m = (16, 5)
    params = {'W1': rng.normal(0, 0.05, (H, 784)), 'b1': rng.normal(0, 0.1, (H, 1)), 'W2': rng.normal(0, 0.3, (10, H)), 'b2': rng.normal(0, 0.1, (10, 1))}
    X = rng.random((784, m))
    out = forward(X, params)
    assert out is not None, 'forward returned None: not implemented yet?'
    assert len(out) == 2, 'forward must return a pair (A2, cache)'
    A2, cache = out
    assert A2 is not None, 'forward returned None for A2'
    A2 = np.asarray(A2, dtype=np.float64)
    assert A2.shape == (10, m), f'A2 has shape {A2.shape}, expected (10, m) = (10, {m})'
    assert isinstance(cache, dict), 'the cache must be a dict with keys Z1, A1, Z2, A2'
    missing = [k for k in ('Z1', 'A1', 'Z2', 'A2') if k not in cache]
    assert not missing, f'the cache is missing {missing}: store Z1, A1, Z2 and A2, backprop needs them'
    for key, shape in (('Z1', (H, m)), ('A1', (H, m)), ('Z2', (10, m))):
        got = np.asarray(cache[key]).shape
        assert got == shape, f"cache['{key}'] has shape {got}, expected {shape}"
    if not np.allclose(A2.sum(axis=0), 1):
        try:
            own = np.asarray(softmax(np.asarray(cache['Z2'], dtype=np.float64)), dtype=np.float64)
        except Exception:
            own = None
        assert own is not None and own.shape == A2.shape and np.allclose(A2, own, atol=1e-06), 'the columns of A2 must sum to 1: A2 is the softmax of Z2'
    Z1 = np.asarray(cache['Z1'], dtype=np.float64)
    assert np.ptp(Z1) > 0 and np.ptp(A2) > 0, 'forward returned the same number everywhere: it must compute the layers from X and params'

@test_case(points=None, hidden=False)
def test_forward_values(forward, softmax, relu, tanh):
    import os
    import numpy as np
    import nn_data
    assert forward is not None, 'forward is not defined: run the cell that defines it'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    H = 16
    params = {'W1': rng.normal(0, 0.05, (H, 784)), 'b1': rng.normal(0, 0.5, (H, 1)), 'W2': rng.normal(0, 0.3, (10, H)), 'b2': rng.normal(0, 0.5, (10, 1))}
    j = int(rng.integers(0, 784))
    x, y = (rng.random(784), rng.random(784))
    X = np.stack([np.zeros(784), np.eye(784)[j], x, y, x + y], axis=1)

    def own(f, Z):
        try:
            value = np.asarray(f(Z), dtype=np.float64)
        except Exception:
            return None
        return value if value.shape == Z.shape and np.all(np.isfinite(value)) and np.any(value) else None

    def matches_own(got, f, Z):
        value = own(f, Z) if f is not None else None
        return value is not None and np.allclose(got, value, atol=1e-06)

    def run(X, params, activation='relu'):
        out = forward(X, params, activation=activation)
        assert out is not None, 'forward returned None: not implemented yet?'
        assert len(out) == 2, 'forward must return a pair (A2, cache)'
        cache = out[1]
        assert isinstance(cache, dict) and all((k in cache for k in ('Z1', 'A1', 'Z2', 'A2'))), 'the cache must be a dict with keys Z1, A1, Z2, A2'
        return [np.asarray(v, dtype=np.float64) for v in (out[0], cache['Z1'], cache['A1'], cache['Z2'])]
    A2, Z1, A1, Z2 = run(X, params)
    if np.allclose(A1, Z1):
        Z1 = run(X, params, 'tanh')[1]
    b1 = params['b1'][:, 0]
    if np.allclose(Z1[:, 0], 0, atol=1e-05) and (not np.allclose(b1, 0, atol=0.001)):
        raise AssertionError('Z1 ignores b1: an image with no ink must give Z1 = b1')
    assert np.allclose(Z1[:, 0], b1, atol=1e-05), "an image with no ink must give Z1 = b1 (cache['Z1'])"
    assert np.allclose(Z1[:, 1] - b1, params['W1'][:, j], atol=1e-05), f'an image with one pixel of ink (pixel {j}) must give Z1 = W1[:, {j}] + b1'
    assert np.allclose(Z1[:, 4] - b1, Z1[:, 2] - b1 + (Z1[:, 3] - b1), atol=0.0001), 'Z1 - b1 must be linear in the image: W1 X + b1'
    positive, negative = (Z1 > 0, Z1 < 0)
    if np.allclose(A1, Z1) and np.any(negative):
        raise AssertionError('the hidden activation was not applied: A1 = relu(Z1), and A1 (not Z1) feeds the output layer')
    relu_ok = np.allclose(A1[positive], Z1[positive], atol=1e-06) and np.allclose(A1[negative], 0)
    assert relu_ok or matches_own(A1, relu, Z1), "with activation='relu', cache['A1'] must be relu(Z1)"
    nn_data.golden_check('test_forward_values', 'A2', A2, 'forward(X, params) gives other probabilities than expected')
    k = int(rng.integers(0, H))
    special = {'W1': np.zeros((H, 784)), 'b1': np.zeros((H, 1)), 'W2': params['W2'], 'b2': params['b2']}
    _, _, _, Z2_none = run(X[:, :2], special)

    def same_logits(got, want):
        return np.allclose(got - got.max(axis=0), want - want.max(axis=0), atol=1e-06)
    assert same_logits(Z2_none, params['b2'] + 0 * Z2_none), 'with A1 = 0 the logits must be Z2 = b2: Z2 = W2 A1 + b2'
    special['b1'] = np.eye(H)[:, [k]]
    _, _, _, Z2_unit = run(X[:, :2], special)
    assert same_logits(Z2_unit, params['W2'][:, [k]] + params['b2'] + 0 * Z2_unit), f'with A1 = the unit vector e_{k} the logits must be W2[:, {k}] + b2: Z2 = W2 A1 + b2'
    powers = rng.integers(-4, 5, size=(10, 1))
    special = {'W1': np.zeros((H, 784)), 'b1': np.zeros((H, 1)), 'W2': np.zeros((10, H)), 'b2': powers * 0.6931471805599453}
    A2_special, _, _, Z2_special = run(X[:, :2], special)
    if not matches_own(A2_special, softmax, Z2_special):
        assert np.allclose(A2_special.sum(axis=0), 1, atol=1e-06), 'the columns of A2 must sum to 1: A2 = softmax(Z2)'
        assert np.allclose(A2_special / A2_special[:1], 2.0 ** (powers - powers[:1]), rtol=0.0001), 'A2 must be the softmax of Z2, column by column'
    kh = rng.integers(-3, 4, size=(H, 1)).astype(np.float64)
    special = {'W1': np.zeros((H, 784)), 'b1': kh * 0.6931471805599453, 'W2': params['W2'], 'b2': params['b2']}
    _, Z1t, A1t, _ = run(X[:, :2], special, 'tanh')
    below = kh[:, 0] < 0
    if np.any(below) and np.all(A1t[below, 0] == 0):
        raise AssertionError("forward ignored activation='tanh': use the activation asked for")
    tanh_ok = np.allclose(A1t[:, 0], (4.0 ** kh[:, 0] - 1) / (4.0 ** kh[:, 0] + 1), atol=1e-06)
    assert tanh_ok or matches_own(A1t, tanh, Z1t), "with activation='tanh', cache['A1'] must be tanh(Z1)"

@test_case(points=None, hidden=True)
def test_forward_hidden(forward, softmax, relu, sigmoid, tanh):
    import numpy as np
    import nn_checks as ck
    assert forward is not None, 'forward is not defined'
    rng = ck.rng_for_test()
    H, m = (int(rng.integers(3, 40)), int(rng.integers(1, 20)))
    P = ck.random_params(rng, 784, H)
    X = rng.random((784, m))
    own = {'relu': relu, 'sigmoid': sigmoid, 'tanh': tanh}
    for name in ('relu', 'sigmoid', 'tanh'):
        out = forward(X, P, activation=name)
        assert out is not None and len(out) == 2, 'forward must return (A2, cache)'
        cache = out[1]
        assert isinstance(cache, dict) and all((k in cache for k in ('Z1', 'A1', 'Z2', 'A2'))), 'the cache must hold Z1, A1, Z2, A2'
        Z1 = ck.arr(cache['Z1'], "cache['Z1']")
        want = P['W1'] @ X + P['b1']
        assert ck.close_to_any(Z1, [want] + ([ck.relu(want)] if name == 'relu' else []), ck.matmul_magnitude(P['W1'], X, P['b1'])), f"cache['Z1'] is wrong for activation='{name}': W1 X + b1"
        A1 = ck.arr(cache['A1'], "cache['A1']")
        g = ck.ACTIVATIONS[name][0]
        assert ck.close_to_any(A1, [g(Z1), ck.usable(ck.try_student(own[name], Z1))], np.abs(g(Z1)) + 0.001), f"cache['A1'] must be {name}(Z1) for activation='{name}'"
        Z2 = ck.arr(cache['Z2'], "cache['Z2']")
        assert ck.close_logits(Z2, P['W2'] @ A1 + P['b2'], ck.matmul_magnitude(P['W2'], A1, P['b2'])), "cache['Z2'] must be W2 A1 + b2"
        A2 = ck.arr(out[0], 'the A2 forward returns')
        truths = [ck.softmax(Z2), ck.usable(ck.try_student(softmax, Z2))]
        assert ck.close_to_any(A2, truths, 1.0), f"forward(..., activation='{name}') must return A2 = softmax(Z2)"
        assert ck.close(ck.arr(cache['A2'], "cache['A2']"), A2, 1.0), "cache['A2'] must be the A2 that forward returns"

