from otter.test_files import test_case

OK_FORMAT = False

name = "q8"
points = 2

@test_case(points=None, hidden=False)
def test_forward_shapes_and_cache(forward):
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
    assert np.allclose(A2.sum(axis=0), 1), 'the columns of A2 must sum to 1: apply softmax to Z2'

@test_case(points=None, hidden=False)
def test_forward_values(forward, softmax, relu, tanh):
    import os
    import numpy as np
    assert forward is not None, 'forward is not defined: run the cell that defines it'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    H, m = (16, 5)
    params = {'W1': rng.normal(0, 0.05, (H, 784)), 'b1': rng.normal(0, 0.5, (H, 1)), 'W2': rng.normal(0, 0.3, (10, H)), 'b2': rng.normal(0, 0.5, (10, 1))}
    X = rng.random((784, m))

    def values(out, activation):
        assert out is not None, 'forward returned None: not implemented yet?'
        assert len(out) == 2, 'forward must return a pair (A2, cache)'
        cache = out[1]
        assert isinstance(cache, dict) and all((k in cache for k in ('Z1', 'A1', 'Z2', 'A2'))), 'the cache must be a dict with keys Z1, A1, Z2, A2'
        return [np.asarray(v, dtype=np.float64) for v in (out[0], cache['Z1'], cache['A1'], cache['Z2'])]

    def near(a, b, scale=1.0):
        return a.shape == b.shape and bool(np.all(np.abs(a - b) <= 0.0001 * scale + 1e-06))
    A2, Z1, A1, Z2 = values(forward(X, params), 'relu')
    size1 = np.abs(params['W1']) @ X + np.abs(params['b1'])
    if near(Z1, params['W1'] @ X, size1):
        raise AssertionError('Z1 ignores b1: the hidden pre-activation is W1 X + b1')
    assert near(Z1, params['W1'] @ X + params['b1'], size1), "cache['Z1'] must be W1 X + b1"
    if near(A1, Z1):
        raise AssertionError('the hidden activation was not applied: A1 = relu(Z1), and A1 (not Z1) feeds the output layer')
    own = relu(Z1) if relu is not None else None
    assert near(A1, np.maximum(Z1, 0)) or (own is not None and near(A1, np.asarray(own, dtype=np.float64))), "with activation='relu', cache['A1'] must be relu(Z1)"
    assert near(Z2, params['W2'] @ A1 + params['b2'], np.abs(params['W2']) @ np.abs(A1) + np.abs(params['b2'])), "cache['Z2'] must be W2 A1 + b2, computed from A1"
    E = np.exp(Z2 - Z2.max(axis=0))
    candidates = [E / E.sum(axis=0)]
    if softmax is not None:
        try:
            candidates.append(np.asarray(softmax(Z2), dtype=np.float64))
        except Exception:
            pass
    assert any((near(A2, c) for c in candidates)), 'A2 must be the softmax of Z2 (each column)'
    A2t, Z1t, A1t, Z2t = values(forward(X, params, activation='tanh'), 'tanh')
    if near(A1t, np.maximum(Z1t, 0)):
        raise AssertionError("forward ignored activation='tanh': look the function up with get_activation(activation)")
    own = tanh(Z1t) if tanh is not None else None
    assert near(A1t, np.tanh(Z1t)) or (own is not None and near(A1t, np.asarray(own, dtype=np.float64))), "with activation='tanh', cache['A1'] must be tanh(Z1)"

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
        assert ck.close(Z1, P['W1'] @ X + P['b1'], ck.matmul_magnitude(P['W1'], X, P['b1'])), f"cache['Z1'] is wrong for activation='{name}': W1 X + b1"
        A1 = ck.arr(cache['A1'], "cache['A1']")
        g = ck.ACTIVATIONS[name][0]
        assert ck.close_to_any(A1, [g(Z1), ck.usable(ck.try_student(own[name], Z1))], np.abs(g(Z1)) + 0.001), f"cache['A1'] must be {name}(Z1) for activation='{name}'"
        Z2 = ck.arr(cache['Z2'], "cache['Z2']")
        assert ck.close(Z2, P['W2'] @ A1 + P['b2'], ck.matmul_magnitude(P['W2'], A1, P['b2'])), "cache['Z2'] must be W2 A1 + b2"
        A2 = ck.arr(out[0], 'the A2 forward returns')
        truths = [ck.softmax(Z2), ck.usable(ck.try_student(softmax, Z2))]
        assert ck.close_to_any(A2, truths, 1.0), f"forward(..., activation='{name}') must return A2 = softmax(Z2)"
        assert ck.close(ck.arr(cache['A2'], "cache['A2']"), A2, 1.0), "cache['A2'] must be the A2 that forward returns"

