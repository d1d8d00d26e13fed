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
def test_forward_values(forward):
    import os
    import numpy as np
    assert forward is not None, 'forward is not defined: run the cell that defines it'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    H, m = (16, 5)
    params = {'W1': rng.normal(0, 0.05, (H, 784)), 'b1': rng.normal(0, 0.5, (H, 1)), 'W2': rng.normal(0, 0.3, (10, H)), 'b2': rng.normal(0, 0.5, (10, 1))}
    X = rng.random((784, m))

    def softmax_columns(Z):
        E = np.exp(Z - Z.max(axis=0))
        return E / E.sum(axis=0)
    Z1 = params['W1'] @ X + params['b1']
    out = forward(X, params)
    assert out is not None, 'forward returned None: not implemented yet?'
    assert len(out) == 2, 'forward must return a pair (A2, cache)'
    A2, cache = out
    Z1_got = np.asarray(cache['Z1'], dtype=np.float64)
    if np.allclose(Z1_got, params['W1'] @ X):
        raise AssertionError('Z1 ignores b1: Z1 = W1 @ X + b1')
    assert np.allclose(Z1_got, Z1), "cache['Z1'] must be W1 @ X + b1"
    A1_got = np.asarray(cache['A1'], dtype=np.float64)
    if np.allclose(A1_got, Z1):
        raise AssertionError('the hidden activation was not applied: A1 = relu(Z1), and A1 (not Z1) feeds the output layer')
    assert np.allclose(A1_got, np.maximum(Z1, 0)), "with activation='relu', cache['A1'] must be relu(Z1)"
    expected = softmax_columns(params['W2'] @ np.maximum(Z1, 0) + params['b2'])
    assert np.allclose(np.asarray(A2, dtype=np.float64), expected), 'A2 must be softmax(W2 @ A1 + b2)'
    out_tanh = forward(X, params, activation='tanh')
    A1_tanh = np.asarray(out_tanh[1]['A1'], dtype=np.float64)
    if np.allclose(A1_tanh, np.maximum(Z1, 0)):
        raise AssertionError("forward ignored activation='tanh': look the function up with get_activation(activation)")
    assert np.allclose(A1_tanh, np.tanh(Z1)), "with activation='tanh', cache['A1'] must be tanh(Z1)"

