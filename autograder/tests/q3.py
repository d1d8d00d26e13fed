from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 2

@test_case(points=None, hidden=False)
def test_softmax_columns(softmax):
    import os
    import numpy as np
    import nn_data
    assert softmax is not None, 'softmax is not defined: run the cell that defines it'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    K = rng.integers(-6, 7, size=(10, 7))
    Z = K * 0.6931471805599453 + rng.normal(0.0, 3.0, size=(1, 7))
    A = softmax(Z)
    assert A is not None, 'softmax returned None: not implemented yet?'
    A = np.asarray(A, dtype=np.float64)
    assert A.shape == Z.shape, f'softmax returned shape {A.shape}, expected the shape of Z {Z.shape}'
    assert np.all(A >= 0), 'softmax returned negative values: probabilities are never negative'
    if not np.allclose(A.sum(axis=0), 1, atol=1e-06):
        if np.allclose(A.sum(axis=1), 1, atol=1e-06):
            raise AssertionError('columns do not sum to 1: softmax normalised over axis=1 instead of axis=0? Each column is one sample')
        if np.isclose(A.sum(), 1):
            raise AssertionError('the whole matrix sums to 1: softmax must normalise each column separately')
        raise AssertionError('the columns of softmax(Z) do not sum to 1')
    ratios = A / A[:1]
    powers = 2.0 ** (K - K[:1]).astype(np.float64)
    assert np.allclose(ratios, powers, rtol=0.0001), 'columns sum to 1 but the values are not proportional to e^Z: raising a logit by ln 2 must double its probability'
    nn_data.golden_check('test_softmax_columns', 'A', A, 'softmax(Z) differs from the expected values')

@test_case(points=None, hidden=False)
def test_softmax_large_logits(softmax):
    import os
    import numpy as np
    assert softmax is not None, 'softmax is not defined: run the cell that defines it'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    small = rng.normal(0.0, 3.0, size=(10, 4))
    shift = rng.uniform(5000.0, 10000.0, size=(1, 4)) * np.array([[1, -1, 1, -1]])
    with np.errstate(all='ignore'):
        A = softmax(small + shift)
        reference = softmax(small)
    assert A is not None and reference is not None, 'softmax returned None: not implemented yet?'
    A, reference = (np.asarray(A, dtype=np.float64), np.asarray(reference, dtype=np.float64))
    assert np.all(np.isfinite(A)), 'softmax of logits near ±1e4 gave nan/inf: exp overflows for large logits; softmax does not change when a constant is subtracted from a column, so make the largest exponent 0'
    assert np.allclose(A.sum(axis=0), 1, atol=1e-06), 'columns do not sum to 1 for large logits: normalise each column (one sample) separately'
    assert np.ptp(reference) > 0.001, 'softmax gives the same probability to every class whatever the logits: larger logits must get larger probabilities'
    assert np.allclose(A, reference, atol=1e-06), "adding a constant to a column of logits must not change its softmax: subtract each column's own maximum, not the maximum of the whole matrix"

@test_case(points=None, hidden=True)
def test_softmax_hidden(softmax):
    import os
    import numpy as np
    assert softmax is not None, 'softmax is not defined'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    Z = rng.normal(0.0, 5.0, size=(10, int(rng.integers(3, 30))))
    Z[:, -1] = -10000.0
    expected = np.empty_like(Z)
    for j in range(Z.shape[1]):
        e = np.exp(Z[:, j] - Z[:, j].max())
        expected[:, j] = e / e.sum()
    with np.errstate(all='ignore'):
        got = softmax(Z)
        shifted = softmax(Z + rng.normal(0.0, 50.0, size=(1, Z.shape[1])))
    assert got is not None and shifted is not None, 'softmax returned None'
    assert np.allclose(np.asarray(got, dtype=np.float64), expected, atol=1e-06), 'softmax values are wrong'
    assert np.allclose(np.asarray(shifted, dtype=np.float64), expected, atol=1e-06), 'adding a constant to a column must not change its softmax'
    Z32 = Z[:, :3].astype(np.float32)
    E32 = np.exp(Z32.astype(np.float64) - Z32.astype(np.float64).max(axis=0))
    got32 = softmax(Z32)
    assert np.allclose(np.asarray(got32, dtype=np.float64), E32 / E32.sum(axis=0), rtol=0.001, atol=1e-05), 'softmax must work on float32 input'

