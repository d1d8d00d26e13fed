from otter.test_files import test_case

OK_FORMAT = False

name = "q10"
points = 1

@test_case(points=None, hidden=False)
def test_update_step(update):
    import os
    import numpy as np
    assert update is not None, 'update is not defined: run the cell that defines it'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    shapes = {'W1': (4, 784), 'b1': (4, 1), 'W2': (10, 4), 'b2': (10, 1)}
    params = {k: rng.normal(0, 1, s) for k, s in shapes.items()}
    grads = {'d' + k: rng.normal(0, 1, s) for k, s in shapes.items()}
    lr = 0.3
    new = update(params, grads, lr)
    assert new is not None, 'update returned None: build and return a new dict of updated parameters'
    assert isinstance(new, dict) and all((k in new for k in shapes)), 'update must return a dict with the same keys as params: W1, b1, W2, b2'
    for k in shapes:
        got = np.asarray(new[k], dtype=np.float64)
        want = params[k] - lr * grads['d' + k]
        assert got.shape == want.shape, f'updated {k} has shape {got.shape}, expected {want.shape}'
        if np.allclose(got, params[k] + lr * grads['d' + k]):
            raise AssertionError(f'{k} moved uphill: subtract learning_rate * d{k}, do not add it')
        if np.allclose(got, params[k] - grads['d' + k]):
            raise AssertionError('learning_rate is ignored: the step is learning_rate * gradient')
        assert np.allclose(got, want), f'updated {k} must be {k} - learning_rate * d{k}'

@test_case(points=None, hidden=True)
def test_update_hidden(update):
    import os
    import numpy as np
    assert update is not None, 'update is not defined'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    H = int(rng.integers(2, 30))
    shapes = {'W1': (H, 784), 'b1': (H, 1), 'W2': (10, H), 'b2': (10, 1)}
    params = {k: rng.normal(0, 1, s) for k, s in shapes.items()}
    grads = {'d' + k: rng.normal(0, 1, s) for k, s in shapes.items()}
    for lr in (float(rng.uniform(0.001, 2.0)), 0.0):
        new = update(params, grads, lr)
        assert new is not None, 'update returned None'
        for k in shapes:
            want = params[k] - lr * grads['d' + k]
            assert np.allclose(np.asarray(new[k], dtype=np.float64), want), f'update is wrong for {k} with learning_rate={lr:.3g}'

