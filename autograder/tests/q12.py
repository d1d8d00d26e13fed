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
    out = train(X, Y, X_val, Y_val, hidden_neurons=16, learning_rate=0.2, epochs=3, batch_size=32, seed=0, eval_every=5)
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
    assert np.all(np.isfinite(losses)), 'the training loss became nan/inf'
    assert losses[-5:].mean() < 0.5 * losses[:3].mean(), f"the training loss did not go down (from {losses[:3].mean():.2f} to {losses[-5:].mean():.2f}) on an easy problem: check that update subtracts the gradient and that each minibatch's X and Y belong together"
    final = np.mean([float(np.asarray(cross_entropy_loss(forward(X[:, i:i + 32], params)[0], Y[:, i:i + 32]), dtype=np.float64)) for i in range(0, 320, 32)])
    tail = losses[-3:].mean()
    assert 0.3 * tail - 0.2 <= final <= 2.0 * tail + 0.3, f'the returned parameters have a training loss of {final:.3f} but the history ends near {tail:.3f}: history must record the training of the parameters train returns'

@test_case(points=None, hidden=False)
def test_train_shuffles_every_epoch(train, forward, cross_entropy_loss):
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
    out = train(X, Y, X_val, Y_val, hidden_neurons=16, learning_rate=0.0, epochs=2, batch_size=32, seed=0, eval_every=1000)
    assert out is not None, 'train returned None: not implemented yet?'
    assert len(out) == 2, 'train must return a pair (params, history)'
    params, history = out
    once = train(X, Y, X_val, Y_val, hidden_neurons=16, learning_rate=0.0, epochs=1, batch_size=32, seed=0, eval_every=1000)
    assert once is not None and len(once) == 2, 'train must return a pair (params, history)'
    if not np.allclose(np.asarray(once[0]['W1'], dtype=np.float64), np.asarray(params['W1'], dtype=np.float64)):
        raise AssertionError('with learning_rate=0 the parameters still changed from one epoch to the next: each step must be learning_rate times the gradient')
    losses = np.asarray(history['train_loss'], dtype=np.float64)
    assert losses.size == 20, f"history['train_loss'] has {losses.size} entries, expected one per update (2 epochs of 10 minibatches)"
    assert np.all(np.isfinite(losses)), "history['train_loss'] holds nan or inf"
    P = {k: np.asarray(v, dtype=np.float64) for k, v in params.items()}
    P['b1'], P['b2'] = (P['b1'].reshape(-1, 1), P['b2'].reshape(-1, 1))

    def loss_of(columns):
        return float(np.asarray(cross_entropy_loss(forward(X[:, columns], P)[0], Y[:, columns]), dtype=np.float64))

    def same(a, b):
        return np.allclose(a, b, rtol=2e-05, atol=1e-06)
    in_data_order = np.array([loss_of(np.arange(i * 32, (i + 1) * 32)) for i in range(10)])
    full = in_data_order.mean()
    shuffled = np.array([loss_of(np.random.default_rng(k).permutation(320)[:32]) for k in range(4)])
    decidable = np.abs(shuffled - in_data_order[:4]).max() > 50 * (2e-05 * abs(full) + 1e-06)
    if decidable:
        assert not same(losses[:10], in_data_order), 'train did not shuffle: the minibatches follow the data order - draw a new permutation of the samples every epoch'
        assert not same(losses[:10], losses[10:]), 'every epoch used the same minibatches: draw a new permutation at the start of each epoch, not once before the loop'
    for epoch in range(2):
        mean = losses[epoch * 10:(epoch + 1) * 10].mean()
        assert np.isclose(mean, full, rtol=0.0001, atol=1e-06), 'an epoch must visit every sample exactly once: slice the minibatches out of a permutation, do not draw samples at random'

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
    runs = [train(X, Y, X_val, Y_val, hidden_neurons=8, learning_rate=0.3, epochs=1, batch_size=32, seed=s, eval_every=5) for s in (3, 3, 4)]
    assert all((r is not None for r in runs)), 'train returned None: not implemented yet?'
    assert all((len(r) == 2 for r in runs)), 'train must return a pair (params, history)'
    (p1, h1), (p2, h2), (p3, h3) = runs
    same = np.allclose(np.asarray(h1['train_loss']), np.asarray(h2['train_loss'])) and np.allclose(np.asarray(p1['W1']), np.asarray(p2['W1']))
    assert same, 'two runs with seed=3 gave different results: create every random generator from seed (init_params(..., seed=seed), np.random.default_rng(seed) for the shuffling)'
    assert not np.allclose(np.asarray(p1['W1']), np.asarray(p3['W1'])), 'seed=3 and seed=4 gave the same network: pass seed on to init_params and to the shuffling generator'
    other = train(X, Y[::-1], X_val, Y_val, hidden_neurons=8, learning_rate=0.3, epochs=1, batch_size=32, seed=3, eval_every=5)
    assert other is not None and len(other) == 2, 'train must return a pair (params, history)'
    assert not np.allclose(np.asarray(other[0]['W1']), np.asarray(p1['W1'])), 'train returned the same parameters for other labels: the parameters must be learned from the X and Y train receives'

@test_case(points=None, hidden=True)
def test_train_learns_hidden(train):
    import numpy as np
    import nn_checks as ck
    assert train is not None, 'train is not defined'
    rng = ck.rng_for_test()
    prototypes = (rng.random((784, 10)) < 0.3).astype(np.float64)
    labels = rng.integers(0, 10, size=230)
    X = np.clip(prototypes[:, labels] + rng.normal(0.0, 0.2, size=(784, 230)), 0, 1).astype(np.float32)
    Y = np.eye(10, dtype=np.float32)[:, labels]
    val_labels = rng.integers(0, 10, size=150)
    X_val = np.clip(prototypes[:, val_labels] + rng.normal(0.0, 0.2, size=(784, 150)), 0, 1).astype(np.float32)
    Y_val = np.eye(10, dtype=np.float32)[:, val_labels]
    out = train(X, Y, X_val, Y_val, hidden_neurons=12, learning_rate=0.5, epochs=4, batch_size=50, seed=int(rng.integers(0, 1000)), activation='tanh', eval_every=7)
    assert out is not None and len(out) == 2, 'train must return (params, history)'
    params, history = out
    n = len(history['train_loss'])
    assert n in (20, 16), f'4 epochs of 230 samples in batches of 50 make 20 updates (16 if the last partial batch is dropped), got {n}'
    P = ck.params64(params, 'the params train returned')
    A2, _ = ck.forward(X_val.astype(np.float64), P, 'tanh')
    acc = float(np.mean(A2.argmax(axis=0) == val_labels))
    assert acc > 0.8, f"after training with activation='tanh' on an easy problem the validation accuracy is only {acc:.2f}"
    assert abs(len(history['val_loss']) - n // 7) <= 1, f"with eval_every=7 and {n} updates, history['val_loss'] needs about {n // 7} entries"

@test_case(points=None, hidden=True)
def test_train_validation_hidden(train, forward, cross_entropy_loss):
    import numpy as np
    import nn_checks as ck
    assert train is not None, 'train is not defined'
    rng = ck.rng_for_test()
    prototypes = (rng.random((784, 10)) < 0.3).astype(np.float64)
    labels = np.repeat(np.arange(10), 32)
    X = np.clip(prototypes[:, labels] + rng.normal(0.0, 0.2, size=(784, labels.size)), 0, 1)
    Y = np.eye(10)[:, labels]
    val_labels = rng.integers(0, 10, size=100)
    X_val = np.clip(prototypes[:, val_labels] + rng.normal(0.0, 0.2, size=(784, 100)), 0, 1)
    Y_val = np.eye(10)[:, val_labels]
    out = train(X, Y, X_val, Y_val, hidden_neurons=8, learning_rate=0.0, epochs=1, batch_size=32, seed=int(rng.integers(0, 1000)), eval_every=3)
    assert out is not None and len(out) == 2, 'train must return (params, history)'
    params, history = out
    assert list(history['val_step']) == [3, 6, 9], f"val_step should be [3, 6, 9] for 10 updates with eval_every=3, got {list(history['val_step'])}"
    P = ck.params64(params, 'the params train returned')
    A2, _ = ck.forward(X_val, P, 'relu')
    truths = [ck.loss(A2, Y_val)]
    own = ck.try_student(forward, X_val, params)
    if own is not None:
        own_loss = ck.try_student(cross_entropy_loss, own[0], Y_val)
        if own_loss is not None:
            truths.append(float(np.asarray(own_loss, dtype=np.float64)))
    got = ck.arr(history['val_loss'], "history['val_loss']")
    assert any((np.allclose(got, t, rtol=0.001, atol=0.0001) for t in truths)), 'val_loss must be the loss on the whole validation set'
    error = np.mean(A2.argmax(axis=0) != val_labels)
    assert np.allclose(ck.arr(history['val_error'], "history['val_error']"), error, atol=0.011), 'val_error must be the error rate on the whole validation set'

@test_case(points=None, hidden=True)
def test_train_on_the_real_data_hidden(params, history, train):
    import numpy as np
    if params is not None:
        assert params['W1'] is not None, 'train gave no parameters'
        assert history is not None, 'train gave no history'
        return
    assert train is not None, 'train is not defined'
    rng = np.random.default_rng(7)
    X = rng.random((784, 128))
    runs = [train(X, np.eye(10)[:, rng.integers(0, 10, size=128)], X[:, :16], np.eye(10)[:, :16], 8, 0.5, 1, batch_size=32, seed=0) for _ in range(2)]
    assert all((r is not None and len(r) == 2 for r in runs)), 'train must return (params, history)'
    assert not np.allclose(np.asarray(runs[0][0]['W2'], dtype=float), np.asarray(runs[1][0]['W2'], dtype=float)), 'train returned the same parameters for different labels: they must be learned from the data'

