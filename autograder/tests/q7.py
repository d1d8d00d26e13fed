from otter.test_files import test_case

OK_FORMAT = False

name = "q7"
points = 2

@test_case(points=None, hidden=False)
def test_init_shapes(init_params):
    import os
    import numpy as np
    assert init_params is not None, 'init_params is not defined: run the cell that defines it'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    p = init_params(784, 32, 10, seed=int(rng.integers(0, 1000)))
    assert p is not None, 'init_params returned None: not implemented yet?'
    assert isinstance(p, dict) and all((k in p for k in ('W1', 'b1', 'W2', 'b2'))), 'init_params must return a dict with the keys W1, b1, W2, b2'
    shapes = {k: np.asarray(p[k]).shape for k in ('W1', 'b1', 'W2', 'b2')}
    assert shapes['W1'] != (784, 32), 'W1 has shape (784, H): transposed - it must be (H, 784) so that W1 @ X works with X of shape (784, m)'
    assert shapes['W1'] == (32, 784), f"W1 has shape {shapes['W1']}, expected (H, n_in) = (32, 784)"
    assert shapes['b1'] != (32,), 'b1 has shape (H,) - keep (H, 1) so it broadcasts over the columns (samples)'
    assert shapes['b1'] == (32, 1), f"b1 has shape {shapes['b1']}, expected (H, 1) = (32, 1)"
    assert shapes['W2'] != (32, 10), 'W2 has shape (H, 10): transposed - it must be (10, H) so that W2 @ A1 works'
    assert shapes['W2'] == (10, 32), f"W2 has shape {shapes['W2']}, expected (n_out, H) = (10, 32)"
    assert shapes['b2'] == (10, 1), f"b2 has shape {shapes['b2']}, expected (n_out, 1) = (10, 1); a (10,) vector would not broadcast over the columns"
    W1 = np.asarray(p['W1'], dtype=np.float64)
    assert np.all(np.isfinite(W1)) and np.unique(W1).size > W1.size // 2, 'W1 repeats the same values: draw each weight independently at random'

@test_case(points=None, hidden=False)
def test_init_values(init_params):
    import os
    import numpy as np
    assert init_params is not None, 'init_params is not defined: run the cell that defines it'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    seed = int(rng.integers(0, 1000))
    p = init_params(784, 32, 10, seed=seed)
    assert p is not None, 'init_params returned None: not implemented yet?'
    W1, W2 = (np.asarray(p['W1'], dtype=np.float64), np.asarray(p['W2'], dtype=np.float64))
    assert np.any(W1 != 0) and np.any(W2 != 0), 'weights initialised to zeros: hidden units stay identical (symmetry) - draw them at random'
    assert not np.allclose(W1, W1[:1]), 'every hidden unit got the same weights, so they will stay identical (symmetry): draw each weight independently'
    std = W1.std()
    assert std < 0.5, f'W1 has standard deviation {std:.2f}: too large (plain standard_normal?) - scale it by sqrt(2 / n_in) so that W1 @ X stays of order 1'
    assert std > 0.001, f'W1 has standard deviation {std:.1e}: too small - the signal and the gradients vanish; use sqrt(2 / n_in)'
    assert abs(W1.mean()) < 0.25 * std, 'the weights are not centred on 0 (all positive?): use rng.standard_normal (or a symmetric uniform range), not rng.random'
    q = init_params(784, 32, 10, seed=seed)
    assert np.array_equal(np.asarray(q['W1']), np.asarray(p['W1'])), f'init_params(seed={seed}) gave different weights on two calls: use np.random.default_rng(seed), not the global np.random state'
    r = init_params(784, 32, 10, seed=seed + 1)
    assert not np.array_equal(np.asarray(r['W1']), np.asarray(p['W1'])), 'different seeds gave the same weights: the seed is ignored'

@test_case(points=None, hidden=True)
def test_init_hidden(init_params):
    import numpy as np
    import nn_checks as ck
    assert init_params is not None, 'init_params is not defined'
    rng = ck.rng_for_test()
    n_in, n_hidden, n_out = (int(rng.integers(200, 800)), int(rng.integers(20, 60)), int(rng.integers(5, 12)))
    seed = int(rng.integers(0, 1000))
    p = init_params(n_in, n_hidden, n_out, seed=seed)
    assert isinstance(p, dict) and all((k in p for k in ('W1', 'b1', 'W2', 'b2'))), 'init_params must return a dict with W1, b1, W2, b2'
    expected = {'W1': (n_hidden, n_in), 'b1': (n_hidden, 1), 'W2': (n_out, n_hidden), 'b2': (n_out, 1)}
    for key, shape in expected.items():
        value = ck.arr(p[key], f"init_params(...)['{key}']")
        assert value.shape == shape, f'init_params({n_in}, {n_hidden}, {n_out}): {key} has shape {value.shape}, expected {shape}'
        ck.finite(value, key)
    for key in ('W1', 'W2'):
        W = ck.arr(p[key], key)
        std = W.std()
        assert 0.0001 <= std <= 0.75, f'{key} has standard deviation {std:.2g}: random weights of a small scale (e.g. sqrt(2 / fan_in)) are needed'
        assert abs(W.mean()) < 0.5 * std, f'{key} is not centred on 0 (mean {W.mean():.2g}): draw weights symmetric around 0'
        assert np.unique(W).size > W.size // 2, f'{key} repeats values: draw every weight independently at random'
    again = init_params(n_in, n_hidden, n_out, seed=seed)
    assert np.array_equal(ck.arr(again['W1'], 'W1'), ck.arr(p['W1'], 'W1')), 'init_params gave different weights for the same seed'

