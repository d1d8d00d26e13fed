from otter.test_files import test_case

OK_FORMAT = False

name = "q5"
points = 1

@test_case(points=None, hidden=False)
def test_derivative_is_A_minus_Y_over_m(cross_entropy_derivative):
    import os
    import numpy as np
    import nn_data
    assert cross_entropy_derivative is not None, 'cross_entropy_derivative is not defined: run the cell that defines it'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    m = 6
    A = rng.dirichlet(np.ones(10), size=m).T
    Y = np.eye(10)[:, rng.integers(0, 10, size=m)]
    dZ = cross_entropy_derivative(A, Y)
    assert dZ is not None, 'cross_entropy_derivative returned None: not implemented yet?'
    dZ = np.asarray(dZ, dtype=np.float64)
    assert dZ.shape == A.shape, f'dZ2 has shape {dZ.shape}, expected {A.shape} (the shape of A)'
    expected = (A - Y) / m
    if np.allclose(dZ, A - Y):
        raise AssertionError('dZ2 is m times too large: the loss is the mean over the m samples, so its gradient carries 1/m')
    if np.allclose(dZ, (Y - A) / m):
        raise AssertionError("the sign is flipped: the loss goes down when the true class's probability goes up")
    if np.allclose(dZ, (A - Y) / 10):
        raise AssertionError('divided by the number of classes: m is the number of samples, the columns of Y')
    if np.allclose(dZ, -Y / A / m):
        raise AssertionError('that is the gradient with respect to A; through the softmax the gradient with respect to Z2 simplifies much further')
    assert np.allclose(dZ, expected), 'cross_entropy_derivative must return the gradient of the mean loss with respect to the logits Z2'
    nn_data.golden_check('test_derivative_is_A_minus_Y_over_m', 'dZ', dZ, 'cross_entropy_derivative differs from the expected values')

@test_case(points=None, hidden=True)
def test_derivative_matches_finite_differences(cross_entropy_derivative):
    import os
    import numpy as np
    assert cross_entropy_derivative is not None, 'cross_entropy_derivative is not defined'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    m = int(rng.integers(2, 12))
    Z = rng.normal(0.0, 2.0, size=(10, m))
    Y = np.zeros((10, m))
    Y[rng.integers(0, 10, size=m), np.arange(m)] = 1

    def mean_loss(Z):
        P = np.exp(Z - Z.max(axis=0))
        P = P / P.sum(axis=0)
        return -np.sum(Y * np.log(P)) / m
    numeric = np.zeros_like(Z)
    eps = 1e-06
    for idx in np.ndindex(Z.shape):
        step = np.zeros_like(Z)
        step[idx] = eps
        numeric[idx] = (mean_loss(Z + step) - mean_loss(Z - step)) / (2 * eps)
    P = np.exp(Z - Z.max(axis=0))
    P = P / P.sum(axis=0)
    got = cross_entropy_derivative(P, Y)
    assert got is not None, 'cross_entropy_derivative returned None'
    assert np.allclose(np.asarray(got, dtype=np.float64), numeric, atol=1e-07), 'cross_entropy_derivative disagrees with the numerical gradient of the mean loss'

