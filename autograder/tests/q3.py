from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 2

@test_case(points=None, hidden=False)
def test_softmax_columns(softmax):
    import os
    import numpy as np
    assert softmax is not None, 'softmax is not defined: run the cell that defines it'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    Z = rng.normal(0.0, 3.0, size=(10, 7))
    A = softmax(Z)
    assert A is not None, 'softmax returned None: not implemented yet?'
    A = np.asarray(A, dtype=np.float64)
    assert A.shape == Z.shape, f'softmax returned shape {A.shape}, expected the shape of Z {Z.shape}'
    assert np.all(A >= 0), 'softmax returned negative values: did you forget np.exp?'
    if not np.allclose(A.sum(axis=0), 1, atol=1e-06):
        if np.allclose(A.sum(axis=1), 1, atol=1e-06):
            raise AssertionError('columns do not sum to 1: softmax normalised over axis=1 instead of axis=0?')
        if np.isclose(A.sum(), 1):
            raise AssertionError('the whole matrix sums to 1: normalise each column separately (sum over axis=0 with keepdims=True)')
        raise AssertionError('the columns of softmax(Z) do not sum to 1')
    E = np.exp(Z - Z.max(axis=0))
    assert np.allclose(A, E / E.sum(axis=0), atol=1e-06), 'columns sum to 1 but the values are not exp(Z) / sum(exp(Z))'

@test_case(points=None, hidden=False)
def test_softmax_large_logits(softmax):
    import os
    import numpy as np
    assert softmax is not None, 'softmax is not defined: run the cell that defines it'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    Z = rng.normal(0.0, 3.0, size=(10, 4)) + 10000.0
    Z[:, 0] = 0.0
    Z[3, 0] = 10000.0
    with np.errstate(all='ignore'):
        A = softmax(Z)
    assert A is not None, 'softmax returned None: not implemented yet?'
    A = np.asarray(A, dtype=np.float64)
    assert np.all(np.isfinite(A)), 'softmax(1e4) gave nan/inf: subtract the column max before np.exp (exp(1e4) overflows)'
    assert np.allclose(A.sum(axis=0), 1, atol=1e-06), 'columns do not sum to 1: normalise each column (axis=0) separately, as in the first check'
    E = np.exp(Z - Z.max(axis=0))
    assert np.allclose(A, E / E.sum(axis=0), atol=1e-06), 'softmax(Z + c) must equal softmax(Z): subtract the max of each column (axis=0, keepdims=True), not of the whole matrix'

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
    got32 = softmax(Z[:, :3].astype(np.float32))
    assert np.allclose(np.asarray(got32, dtype=np.float64), expected[:, :3], atol=1e-05), 'softmax must work on float32 input'

