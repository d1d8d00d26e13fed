from otter.test_files import test_case

OK_FORMAT = False

name = "q6"
points = 2

@test_case(points=None, hidden=False)
def test_relu_and_its_derivative(relu, relu_derivative):
    import os
    import numpy as np
    assert relu is not None and relu_derivative is not None, 'relu or relu_derivative is not defined: run the cell that defines them'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    Z = rng.normal(0.0, 1.0, size=(5, 7))
    Z[0, :2] = [-0.5, 0.5]
    R = relu(Z)
    assert R is not None, 'relu returned None: not implemented yet?'
    R = np.asarray(R, dtype=np.float64)
    assert R.shape == Z.shape, f'relu returned shape {R.shape}, expected {Z.shape}'
    assert np.allclose(R, np.maximum(Z, 0)), 'relu must return max(Z, 0) element-wise: keep the positive values, replace the negative ones by 0'
    D = relu_derivative(Z)
    assert D is not None, 'relu_derivative returned None: not implemented yet?'
    D = np.asarray(D, dtype=np.float64)
    assert D.shape == Z.shape, f'relu_derivative returned shape {D.shape}, expected {Z.shape}'
    if np.allclose(D, np.maximum(Z, 0)):
        raise AssertionError('relu_derivative returned relu(Z): it must return the slope, 1 where Z > 0 and 0 where Z < 0')
    assert np.allclose(D, Z > 0), 'relu_derivative must be 1 where Z > 0 and 0 elsewhere'

@test_case(points=None, hidden=False)
def test_sigmoid_tanh_and_derivatives(sigmoid, sigmoid_derivative, tanh, tanh_derivative):
    import os
    import numpy as np
    for name, f in (('sigmoid', sigmoid), ('sigmoid_derivative', sigmoid_derivative), ('tanh', tanh), ('tanh_derivative', tanh_derivative)):
        assert f is not None, f'{name} is not defined: run the cell that defines it'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    Z = rng.normal(0.0, 2.0, size=(4, 6))
    S = sigmoid(Z)
    assert S is not None, 'sigmoid returned None: not implemented yet?'
    assert np.allclose(np.asarray(S, dtype=np.float64), 1 / (1 + np.exp(-Z))), 'sigmoid must be 1 / (1 + exp(-Z)) element-wise'
    T = tanh(Z)
    assert T is not None, 'tanh returned None: not implemented yet?'
    assert np.allclose(np.asarray(T, dtype=np.float64), np.tanh(Z)), 'tanh must equal np.tanh(Z)'
    with np.errstate(all='ignore'):
        extreme = np.asarray(sigmoid(np.array([[-1000.0, 1000.0]])), dtype=np.float64)
    assert np.all(np.isfinite(extreme)) and np.allclose(extreme, [[0.0, 1.0]]), 'sigmoid(-1000), sigmoid(1000) must be 0 and 1, not nan: exp(Z) / (1 + exp(Z)) overflows, use 1 / (1 + exp(-Z))'
    h = 1e-06
    cases = (('sigmoid', sigmoid_derivative, lambda z: 1 / (1 + np.exp(-z)), Z * (1 - Z)), ('tanh', tanh_derivative, np.tanh, 1 - Z ** 2))
    for name, derivative, true_f, on_A in cases:
        D = derivative(Z)
        assert D is not None, f'{name}_derivative returned None: not implemented yet?'
        D = np.asarray(D, dtype=np.float64)
        assert D.shape == Z.shape, f'{name}_derivative returned shape {D.shape}, expected {Z.shape}'
        if np.allclose(D, on_A):
            raise AssertionError(f'{name}_derivative looks evaluated on A, not Z: it receives the pre-activation Z, so compute A = {name}(Z) first and the slope from A')
        slope = (true_f(Z + h) - true_f(Z - h)) / (2 * h)
        assert np.allclose(D, slope, atol=1e-06), f'{name}_derivative does not match the slope of {name} measured by finite differences'

@test_case(points=None, hidden=True)
def test_activations_hidden(relu, relu_derivative, sigmoid, sigmoid_derivative, tanh, tanh_derivative):
    import numpy as np
    import nn_checks as ck
    rng = ck.rng_for_test()
    Z = rng.normal(0.0, 3.0, size=(int(rng.integers(2, 9)), int(rng.integers(2, 9))))
    Z[np.abs(Z) < 0.001] = 0.5
    functions = {'relu': relu, 'relu_derivative': relu_derivative, 'sigmoid': sigmoid, 'sigmoid_derivative': sigmoid_derivative, 'tanh': tanh, 'tanh_derivative': tanh_derivative}
    for name, f in functions.items():
        assert f is not None, f'{name} is not defined'
        base = name.replace('_derivative', '')
        want = ck.ACTIVATIONS[base][1 if name.endswith('derivative') else 0](Z)
        got = ck.arr(f(Z), f'{name}(Z)')
        assert got.shape == Z.shape, f'{name} returned shape {got.shape}, expected {Z.shape}'
        assert np.allclose(got, want, rtol=1e-05, atol=1e-06), f'{name} is wrong on random inputs' + (' (a derivative takes the pre-activation Z)' if name.endswith('derivative') else '')

