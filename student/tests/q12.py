from otter.test_files import test_case

OK_FORMAT = False

name = "q12"
points = 3

@test_case(points=None, hidden=False)
def test_hyperparameters(hidden_neurons, learning_rate, epochs, params):
    for name, value in (('hidden_neurons', hidden_neurons), ('learning_rate', learning_rate), ('epochs', epochs)):
        assert value is not None and value is not Ellipsis, f'{name} is not set: replace the ... by a number'
        assert isinstance(value, (int, float)) and (not isinstance(value, bool)), f'{name} must be a number, got {type(value).__name__}'
    assert int(hidden_neurons) == hidden_neurons and 1 <= hidden_neurons <= 4096, f'hidden_neurons = {hidden_neurons}: use a whole number between 1 and 4096'
    assert 0 < learning_rate <= 10, f'learning_rate = {learning_rate}: it must be positive (and typically 0.01 - 1)'
    assert int(epochs) == epochs and 1 <= epochs <= 200, f'epochs = {epochs}: use a whole number between 1 and 200'
    if params is not None:
        assert params['W1'] is not None, 'train gave no parameters with these hyperparameters'

@test_case(points=None, hidden=False)
def test_train_history(train, forward, cross_entropy_loss):
    import os
    import numpy as np
    assert train is not None, 'train is not defined: run the cell that defines it'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    prototypes = (rng.random((784, 10)) < 0.3).astype(np.float64)
    labels = np.repeat(np.arange(10), 32)
    X = np.clip(prototypes[:, labels] + rng.normal(0.0, 0.2, size=(784, labels.size)), 0, 1)
    Y = np.eye(10)[:, labels]
    val_labels = rng.integers(0, 10, size=100)
    X_val = np.clip(prototypes[:, val_labels] + rng.normal(0.0, 0.2, size=(784, 100)), 0, 1)
    Y_val = np.eye(10)[:, val_labels]
    out = train(X, Y, X_val, Y_val, hidden_neurons=16, learning_rate=0.0, epochs=3, batch_size=32, seed=0, eval_every=5)
    assert out is not None, 'train returned None: not implemented yet?'
    assert len(out) == 2, 'train must return a pair (params, history)'
    params, history = out
    assert isinstance(params, dict) and np.asarray(params.get('W1')).shape == (16, 784), 'train must return the trained params (W1 of shape (hidden_neurons, 784), ...) first'
    assert isinstance(history, dict), 'history must be a dict'
    missing = [k for k in ('train_loss', 'train_error', 'val_step', 'val_loss', 'val_error') if k not in history]
    assert not missing, f'history is missing {missing}'
    n = len(history['train_loss'])
    assert n == 30, f"history['train_loss'] has {n} entries, expected one per update: epochs * (m / batch_size) = 3 * (320 / 32) = 30"
    assert len(history['train_error']) == 30, "history['train_error'] needs one entry per update, like train_loss"
    errors = np.asarray(history['train_error'], dtype=np.float64)
    assert np.all((errors >= 0) & (errors <= 1)), 'train_error must be the fraction of misclassified samples in the minibatch, between 0 and 1'
    n_val = len(history['val_loss'])
    assert len(history['val_step']) == n_val == len(history['val_error']), 'val_step, val_loss and val_error must have the same length'
    assert 5 <= n_val <= 7, f"history['val_loss'] has {n_val} entries: evaluate on the validation set every eval_every updates (30 updates with eval_every=5 give 6)"
    assert np.all(np.diff(np.asarray(history['val_step'])) == 5), 'val_step must hold the update counts at which validation ran: 5, 10, 15, ...'
    losses = np.asarray(history['train_loss'], dtype=np.float64)
    assert np.all(np.isfinite(losses)), "history['train_loss'] must hold the cross-entropy of each minibatch: a finite number"
    val = np.asarray(history['val_loss'], dtype=np.float64)
    assert np.all(np.isfinite(val)), "history['val_loss'] must hold the cross-entropy on the validation set: a finite number"
    truths = []
    try:
        truths.append(float(np.asarray(cross_entropy_loss(forward(X_val, params)[0], Y_val), dtype=np.float64)))
    except Exception:
        pass
    try:
        import nn_checks as ck
        truths.append(ck.loss(ck.forward(X_val, ck.params64(params))[0], Y_val))
    except ImportError:
        pass
    assert truths, 'forward or cross_entropy_loss fails on the parameters train returned: do q4 and q8 first'
    assert any((np.allclose(val, t, rtol=0.001, atol=0.0001) for t in truths)), "with learning_rate=0 the parameters never change, so every entry of history['val_loss'] must be the loss of the parameters train returns on the whole validation set"

@test_case(points=None, hidden=False)
def test_train_shuffles_every_epoch(train, forward, cross_entropy_loss, update):
    import os
    import numpy as np
    assert train is not None, 'train is not defined: run the cell that defines it'
    try:
        import nn_checks as ck
    except ImportError:
        ck = None
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    prototypes = (rng.random((784, 10)) < 0.3).astype(np.float64)
    labels = np.repeat(np.arange(10), 32)
    X = np.clip(prototypes[:, labels] + rng.normal(0.0, 0.2, size=(784, labels.size)), 0, 1)
    Y = np.eye(10)[:, labels]
    val_labels = rng.integers(0, 10, size=100)
    X_val = np.clip(prototypes[:, val_labels] + rng.normal(0.0, 0.2, size=(784, 100)), 0, 1)
    Y_val = np.eye(10)[:, val_labels]
    out = train(X, Y, X_val, Y_val, hidden_neurons=16, learning_rate=0.0, epochs=2, batch_size=32, seed=0, eval_every=1000)
    assert out is not None, 'train returned None: not implemented yet?'
    assert len(out) == 2, 'train must return a pair (params, history)'
    params, history = out
    once = train(X, Y, X_val, Y_val, hidden_neurons=16, learning_rate=0.0, epochs=1, batch_size=32, seed=0, eval_every=1000)
    assert once is not None and len(once) == 2, 'train must return a pair (params, history)'
    if not np.allclose(np.asarray(once[0]['W1'], dtype=np.float64), np.asarray(params['W1'], dtype=np.float64)):
        unit = {'W1': np.ones((2, 3)), 'b1': np.ones((2, 1)), 'W2': np.ones((10, 2)), 'b2': np.ones((10, 1))}
        try:
            frozen = update({k: v.copy() for k, v in unit.items()}, {'d' + k: v for k, v in unit.items()}, 0.0)
            frozen = all((np.allclose(np.asarray(frozen[k], dtype=np.float64), unit[k]) for k in unit))
        except Exception:
            frozen = True
        assert frozen, "update(params, grads, 0.0) changed the parameters (q10): train's steps are checked with learning_rate=0, which must keep them"
        raise AssertionError('with learning_rate=0 the parameters still changed from one epoch to the next: each step must be learning_rate times the gradient')
    losses = np.asarray(history['train_loss'], dtype=np.float64)
    assert losses.size == 20, f"history['train_loss'] has {losses.size} entries, expected one per update (2 epochs of 10 minibatches)"
    assert np.all(np.isfinite(losses)), "history['train_loss'] holds nan or inf"

    def own_loss(columns):
        return float(np.asarray(cross_entropy_loss(forward(X[:, columns], params)[0], Y[:, columns]), dtype=np.float64))
    measures = [own_loss]
    if ck is not None:
        P = ck.params64(params)
        measures.append(lambda columns: ck.loss(ck.forward(X[:, columns], P)[0], Y[:, columns]))

    def same(a, b):
        return np.allclose(a, b, rtol=2e-05, atol=1e-06)

    def verdict(loss_of):
        try:
            in_data_order = np.array([loss_of(np.arange(i * 32, (i + 1) * 32)) for i in range(10)])
            shuffled = np.array([loss_of(np.random.default_rng(k).permutation(320)[:32]) for k in range(4)])
        except Exception:
            return "forward or cross_entropy_loss raised an error on train's parameters: do q4 and q8 first"
        full = in_data_order.mean()
        if np.abs(shuffled - in_data_order[:4]).max() > 50 * (2e-05 * abs(full) + 1e-06):
            if same(losses[:10], in_data_order):
                return 'train did not shuffle: the minibatches follow the data order - draw a new permutation of the samples every epoch'
            if same(losses[:10], losses[10:]):
                return 'every epoch used the same minibatches: draw a new permutation at the start of each epoch, not once before the loop'
        regrouped = np.mean([loss_of(c) for c in np.split(np.random.default_rng(9).permutation(320), 10)])
        if not np.isclose(regrouped, full, rtol=0.0001, atol=1e-06):
            return None
        for epoch in range(2):
            if not np.isclose(losses[epoch * 10:(epoch + 1) * 10].mean(), full, rtol=0.0001, atol=1e-06):
                return 'an epoch must visit every sample exactly once: slice the minibatches out of a permutation, do not draw samples at random'
        return None
    problems = [verdict(f) for f in measures]
    assert None in problems, problems[0]

@test_case(points=None, hidden=False)
def test_train_takes_gradient_steps(train, forward, backprop, update):
    import os
    import numpy as np
    assert train is not None, 'train is not defined: run the cell that defines it'
    try:
        import nn_checks as ck
    except ImportError:
        ck = None
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    m, H, lr = (60, 6, 0.5)
    X = rng.random((784, m))
    Y = np.eye(10)[:, rng.integers(0, 10, size=m)]
    runs = [train(X, Y, X[:, :10], Y[:, :10], hidden_neurons=H, learning_rate=rate, epochs=e, batch_size=m, seed=1, eval_every=1000) for rate, e in ((0.0, 1), (lr, 1), (lr, 2))]
    assert all((r is not None for r in runs)), 'train returned None: not implemented yet?'
    assert all((r is not None and len(r) == 2 for r in runs)), 'train must return a pair (params, history)'
    P0, P1, P2 = (r[0] for r in runs)

    def as64(P):
        return {k: np.asarray(P[k], dtype=np.float64).reshape(np.shape(P[k])) for k in ('W1', 'b1', 'W2', 'b2')}

    def next_params(P):
        """Where one step of gradient descent from P may land: with your own forward, backprop and
        update (train is judged against the functions it is built from), or with the reference."""
        found = []
        try:
            own = backprop(X, Y, {k: np.array(v) for k, v in P.items()}, forward(X, P)[1])
            grads = [{k: np.asarray(own['d' + k], dtype=np.float64).reshape(np.shape(P[k])) for k in ('W1', 'b1', 'W2', 'b2')}]
        except Exception:
            grads = []
        if ck is not None:
            ref = ck.backprop(X, Y, ck.params64(P), ck.forward(X, ck.params64(P))[1])
            grads.append({k: ref['d' + k].reshape(np.shape(P[k])) for k in ('W1', 'b1', 'W2', 'b2')})
        for g in grads:
            found.append({k: v - lr * g[k] for k, v in as64(P).items()})
            try:
                stepped = update({k: np.array(v) for k, v in P.items()}, {'d' + k: v for k, v in g.items()}, lr)
                found.append({k: np.asarray(stepped[k], dtype=np.float64).reshape(np.shape(P[k])) for k in ('W1', 'b1', 'W2', 'b2')})
            except Exception:
                pass
        assert found, "backprop raised an error, so train's steps cannot be checked: do q9 first"
        return found

    def one_step(before, after):
        A, B = (as64(before), as64(after))
        for cand in next_params(before):
            if all((np.linalg.norm(B[k] - cand[k]) <= 0.001 * np.linalg.norm(cand[k] - A[k]) + 5e-07 * np.linalg.norm(A[k]) + 1e-12 for k in A)):
                return True
        return False

    def update_moves_at_zero():
        unit = {'W1': np.ones((2, 3)), 'b1': np.ones((2, 1)), 'W2': np.ones((10, 2)), 'b2': np.ones((10, 1))}
        try:
            new = update({k: v.copy() for k, v in unit.items()}, {'d' + k: v for k, v in unit.items()}, 0.0)
            return not all((np.allclose(np.asarray(new[k], dtype=np.float64), unit[k]) for k in unit))
        except Exception:
            return False
    if not one_step(P0, P1):
        assert not update_moves_at_zero(), "update(params, grads, 0.0) changed the parameters (q10): train's steps are measured from learning_rate=0, which must keep them"
    W0, W1 = (as64(P0)['W1'], as64(P1)['W1'])
    assert not np.allclose(W0, W1, rtol=0, atol=0), 'with learning_rate > 0 the parameters did not change: update the parameters after every minibatch and return the updated ones'
    assert one_step(P0, P1), 'one epoch with batch_size equal to the number of samples must be one step of gradient descent from the initial parameters (those train returns with learning_rate=0): theta - learning_rate * dL/dtheta, with the gradient of the mean loss at theta for the activation given'
    assert one_step(P1, P2), 'the second epoch must continue from the parameters the first one reached: keep the updated parameters across epochs'

@test_case(points=None, hidden=False)
def test_train_is_reproducible(train):
    import os
    import numpy as np
    assert train is not None, 'train is not defined: run the cell that defines it'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    prototypes = (rng.random((784, 10)) < 0.3).astype(np.float64)
    labels = np.repeat(np.arange(10), 32)
    X = np.clip(prototypes[:, labels] + rng.normal(0.0, 0.2, size=(784, labels.size)), 0, 1)
    Y = np.eye(10)[:, labels]
    val_labels = rng.integers(0, 10, size=100)
    X_val = np.clip(prototypes[:, val_labels] + rng.normal(0.0, 0.2, size=(784, 100)), 0, 1)
    Y_val = np.eye(10)[:, val_labels]
    runs = [train(X, Y, X_val, Y_val, hidden_neurons=8, learning_rate=0.1, epochs=1, batch_size=32, seed=s, eval_every=5) for s in (3, 3, 4)]
    assert all((r is not None for r in runs)), 'train returned None: not implemented yet?'
    assert all((len(r) == 2 for r in runs)), 'train must return a pair (params, history)'
    (p1, h1), (p2, h2), (p3, h3) = runs

    def W(p):
        return np.asarray(p['W1'], dtype=np.float64)
    same = np.allclose(np.asarray(h1['train_loss'], dtype=np.float64), np.asarray(h2['train_loss'], dtype=np.float64), equal_nan=True) and np.allclose(W(p1), W(p2), equal_nan=True)
    assert same, 'two runs with seed=3 gave different results: create every random generator from seed (init_params(..., seed=seed), np.random.default_rng(seed) for the shuffling)'
    assert not np.allclose(W(p1), W(p3)), 'seed=3 and seed=4 gave the same network: pass seed on to init_params and to the shuffling generator'
    other = train(X, Y[::-1], X_val, Y_val, hidden_neurons=8, learning_rate=0.1, epochs=1, batch_size=32, seed=3, eval_every=5)
    assert other is not None and len(other) == 2, 'train must return a pair (params, history)'
    assert not np.allclose(W(other[0]), W(p1)), 'train returned the same parameters for other labels: the parameters must be learned from the X and Y train receives'

