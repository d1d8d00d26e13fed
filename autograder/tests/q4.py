from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 2

@test_case(points=None, hidden=False)
def test_loss_is_mean_over_samples(cross_entropy_loss):
    import os
    import numpy as np
    import nn_data
    assert cross_entropy_loss is not None, 'cross_entropy_loss is not defined: run the cell that defines it'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    m = int(rng.integers(5, 12))
    labels = rng.integers(0, 10, size=m)
    Y = np.eye(10)[:, labels]
    half = np.full((10, m), 0.5 / 9)
    half[labels, np.arange(m)] = 0.5
    L = cross_entropy_loss(half, Y)
    assert L is not None, 'cross_entropy_loss returned None: not implemented yet?'
    L = np.asarray(L, dtype=np.float64)
    assert L.size == 1, f'cross_entropy_loss returned an array of shape {L.shape}: return one number, the mean over the m samples'
    L, ln2 = (float(L), 0.6931471805599453)
    if np.isclose(L, m * ln2, rtol=0.0001):
        raise AssertionError(f'loss is {m}x too big for {m} samples: sum instead of mean over the samples?')
    if np.isclose(L, ln2 / 10, rtol=0.0001):
        raise AssertionError('loss is 10x too small: averaged over all 10*m entries; add up over the classes, average over the samples')
    if np.isclose(L, -ln2, rtol=0.0001):
        raise AssertionError('loss is negative: missing minus sign (the log of a probability is <= 0)')
    assert np.isclose(L, ln2, rtol=0.0001), f'when every sample gives its true class probability 1/2 the loss is ln 2 = 0.6931, got {L:.5f}: the mean over the samples of -log(probability of the true class)'
    uniform = cross_entropy_loss(np.full((10, 4), 0.1), np.eye(10)[:, :4])
    assert np.isclose(float(np.asarray(uniform)), 2.302585092994046, rtol=0.0001), f'predicting 1/10 for every class must give ln(10) = 2.3026, got {float(np.asarray(uniform)):.4f}'
    A = np.stack([rng.dirichlet(1.0 + 4.0 * (np.arange(10) == label)) for label in labels], axis=1)
    got = cross_entropy_loss(A, Y)
    nn_data.golden_check('test_loss_is_mean_over_samples', 'L', got, 'cross_entropy_loss(A, Y) differs from the expected value for random probabilities')

@test_case(points=None, hidden=False)
def test_loss_with_zero_probabilities(cross_entropy_loss):
    import os
    import numpy as np
    assert cross_entropy_loss is not None, 'cross_entropy_loss is not defined: run the cell that defines it'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    labels = rng.integers(0, 10, size=6)
    Y = np.eye(10)[:, labels]
    confident_right = Y.copy()
    confident_wrong = np.eye(10)[:, (labels + 1) % 10]
    with np.errstate(all='ignore'):
        right = cross_entropy_loss(confident_right, Y)
        wrong = cross_entropy_loss(confident_wrong, Y)
    assert right is not None and wrong is not None, 'cross_entropy_loss returned None: not implemented yet?'
    right, wrong = (float(np.asarray(right)), float(np.asarray(wrong)))
    assert np.isfinite(right) and np.isfinite(wrong), 'loss is nan/inf when A contains zeros: log(0) = -inf and 0 * log(0) = nan; clip A to a tiny positive value before the log'
    assert abs(right) < 1e-06, f'perfect confident predictions must give a loss of about 0, got {right:.3g}'
    assert wrong > 10, f'confidently wrong predictions must give a large loss, got {wrong:.3g}: clip to a tiny value such as 1e-12, not to something like 0.1'

@test_case(points=None, hidden=True)
def test_loss_hidden(cross_entropy_loss):
    import math
    import numpy as np
    import nn_checks as ck
    assert cross_entropy_loss is not None, 'cross_entropy_loss is not defined'
    rng = ck.rng_for_test()
    for m in (int(rng.integers(2, 9)), int(rng.integers(20, 90))):
        A = ck.softmax(rng.normal(0.0, 1.0, size=(10, m)))
        labels = np.array([rng.choice(np.flatnonzero(A[:, i] >= 0.001)) for i in range(m)])
        Y = ck.one_hot_columns(labels)
        expected = sum((-math.log(A[labels[i], i]) for i in range(m))) / m
        for dtype in (np.float64, np.float32):
            got = ck.arr(cross_entropy_loss(A.astype(dtype), Y.astype(dtype)), 'cross_entropy_loss')
            assert got.size == 1, f'cross_entropy_loss returned shape {got.shape}: return one number'
            assert abs(float(got) - expected) <= 0.0002 + 1e-05 * expected, f'loss for m={m} ({np.dtype(dtype).name} inputs) should be {expected:.5f}, got {float(got):.5f}: the mean over the samples of -log(probability of the true class)'

