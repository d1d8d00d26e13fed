from otter.test_files import test_case

OK_FORMAT = False

name = "q6"
points = 2

@test_case(points=None, hidden=False)
def test_relu_and_its_derivative(relu, relu_derivative):
    import os
    import numpy as np
    import nn_data
    assert relu is not None and relu_derivative is not None, 'relu or relu_derivative is not defined: run the cell that defines them'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    Z = rng.normal(0.0, 1.0, size=(5, 7))
    Z[0, :2] = [-0.5, 0.5]
    positive, negative = (Z > 0, Z < 0)
    R = relu(Z)
    assert R is not None, 'relu returned None: not implemented yet?'
    R = np.asarray(R, dtype=np.float64)
    assert R.shape == Z.shape, f'relu returned shape {R.shape}, expected {Z.shape}'
    assert np.allclose(R[positive], Z[positive]) and np.all(R[negative] == 0), 'relu must keep the positive values and replace the negative ones by 0, element by element'
    D = relu_derivative(Z)
    assert D is not None, 'relu_derivative returned None: not implemented yet?'
    D = np.asarray(D, dtype=np.float64)
    assert D.shape == Z.shape, f'relu_derivative returned shape {D.shape}, expected {Z.shape}'
    if np.allclose(D, R):
        raise AssertionError('relu_derivative returned relu(Z): it must return the slope, 1 where Z > 0 and 0 where Z < 0')
    assert np.all(D[positive] == 1) and np.all(D[negative] == 0), 'relu_derivative must be 1 where Z > 0 and 0 where Z < 0'
    nn_data.golden_check('test_relu_and_its_derivative', 'R', R, 'relu(Z) differs from the expected values')

@test_case(points=None, hidden=False)
def test_sigmoid_tanh_and_derivatives(sigmoid, sigmoid_derivative, tanh, tanh_derivative):
    import os
    import numpy as np
    import nn_data
    for name, f in (('sigmoid', sigmoid), ('sigmoid_derivative', sigmoid_derivative), ('tanh', tanh), ('tanh_derivative', tanh_derivative)):
        assert f is not None, f'{name} is not defined: run the cell that defines it'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    k = rng.integers(-5, 6, size=(4, 6)).astype(np.float64)
    Z = k * 0.6931471805599453
    S = sigmoid(Z)
    assert S is not None, 'sigmoid returned None: not implemented yet?'
    S = np.asarray(S, dtype=np.float64)
    assert S.shape == Z.shape, f'sigmoid returned shape {S.shape}, expected {Z.shape}'
    assert np.all((S > 0) & (S < 1)), 'sigmoid must lie strictly between 0 and 1'
    assert np.allclose(S / (1 - S), 2.0 ** k, rtol=1e-05), 'sigmoid must be 1 / (1 + e^(-z)) element-wise: its odds sigmoid / (1 - sigmoid) are e^z'
    T = tanh(Z)
    assert T is not None, 'tanh returned None: not implemented yet?'
    T = np.asarray(T, dtype=np.float64)
    assert np.allclose(T, (4.0 ** k - 1) / (4.0 ** k + 1), atol=1e-06), 'tanh must be (e^z - e^-z) / (e^z + e^-z) element-wise'
    with np.errstate(all='ignore'):
        extreme = np.asarray(sigmoid(np.array([[-1000.0, 1000.0]])), dtype=np.float64)
    assert np.all(np.isfinite(extreme)) and np.allclose(extreme, [[0.0, 1.0]]), 'sigmoid(-1000), sigmoid(1000) must be 0 and 1, not nan: exp(Z) / (1 + exp(Z)) overflows for large Z'
    Zr = rng.normal(0.0, 2.0, size=(4, 6))
    h = 1e-06
    for name, f, derivative in (('sigmoid', sigmoid, sigmoid_derivative), ('tanh', tanh, tanh_derivative)):
        D = derivative(Zr)
        assert D is not None, f'{name}_derivative returned None: not implemented yet?'
        D = np.asarray(D, dtype=np.float64)
        assert D.shape == Zr.shape, f'{name}_derivative returned shape {D.shape}, expected {Zr.shape}'
        F = np.asarray(f(Zr), dtype=np.float64)
        slope = (np.asarray(f(Zr + h), dtype=np.float64) - np.asarray(f(Zr - h), dtype=np.float64)) / (2 * h)
        on_A = Zr * (1 - Zr) if name == 'sigmoid' else 1 - Zr ** 2
        if not np.allclose(D, slope, atol=1e-05) and np.allclose(D, on_A, atol=1e-05):
            raise AssertionError(f'{name}_derivative looks evaluated on A, not Z: it receives the pre-activation Z')
        if name == 'tanh' and (not np.allclose(D, slope, atol=1e-05)) and np.allclose(D, 1 - F, atol=1e-05):
            raise AssertionError('tanh_derivative is 1 - tanh(Z): the slope of tanh involves its square')
        assert np.allclose(D, slope, atol=1e-05), f'{name}_derivative does not match the slope of your {name} measured by finite differences'

