from otter.test_files import test_case

OK_FORMAT = False

name = "q11"
points = 2

@test_case(points=None, hidden=False)
def test_gradient_check_centred(gradient_check, forward, cross_entropy_loss, backprop):
    import os
    import numpy as np
    assert gradient_check is not None, 'gradient_check is not defined: run the cell that defines it'
    for name, f in (('forward', forward), ('cross_entropy_loss', cross_entropy_loss), ('backprop', backprop)):
        assert f is not None, f'{name} is not defined: gradient_check uses it'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))

    def draw(n_in, H, m):
        P = {'W1': rng.normal(0, 0.8, (H, n_in)), 'b1': rng.normal(0, 0.3, (H, 1)), 'W2': rng.normal(0, 0.8, (10, H)), 'b2': rng.normal(0, 0.3, (10, 1))}
        return (P, rng.normal(0, 1, (n_in, m)), np.eye(10)[:, rng.integers(0, 10, size=m)])
    P, X, Y = draw(3, 2, 3)
    try:
        g = backprop(X, Y, P, forward(X, P, 'tanh')[1], 'tanh')
        wrong_shapes = any((np.shape(g['d' + k]) != P[k].shape for k in P))
    except Exception:
        wrong_shapes = False
    if wrong_shapes:
        P, X, Y = draw(10, 10, 1)
    eps = 0.3
    probe = forward(X, P, 'tanh')
    assert probe is not None, 'forward returned None: do q8 first, gradient_check uses it'
    assert backprop(X, Y, P, probe[1], 'tanh') is not None, 'backprop returned None: do q9 first, gradient_check uses it'

    def mean_loss(Q):
        return float(np.asarray(cross_entropy_loss(forward(X, Q, 'tanh')[0], Y), dtype=np.float64))
    grads = backprop(X, Y, P, forward(X, P, 'tanh')[1], 'tanh')
    worst = 0.0
    for key in ('W1', 'b1', 'W2', 'b2'):
        numeric = np.zeros_like(P[key])
        for idx in np.ndindex(P[key].shape):
            plus = {k: v.copy() for k, v in P.items()}
            minus = {k: v.copy() for k, v in P.items()}
            plus[key][idx] += eps
            minus[key][idx] -= eps
            numeric[idx] = (mean_loss(plus) - mean_loss(minus)) / (2 * eps)
        analytic = np.asarray(grads['d' + key], dtype=np.float64).reshape(numeric.shape)
        worst = max(worst, float(np.linalg.norm(numeric - analytic) / max(np.linalg.norm(numeric) + np.linalg.norm(analytic), 1e-300)))
    result = gradient_check(X, Y, P, activation='tanh', eps=eps)
    assert result is not None, 'gradient_check returned None: not implemented yet?'
    result = np.asarray(result, dtype=np.float64)
    assert result.size == 1, f'gradient_check returned an array of shape {result.shape}: return one number, the largest relative error'
    result = float(result)
    assert np.isfinite(result) and result >= 0, f'gradient_check returned {result}: a relative error is a finite number >= 0'
    assert abs(result - worst) <= 0.05 * worst + 1e-09, f'with eps={eps} the largest relative error between centred differences (L(theta + eps) - L(theta - eps)) / (2 eps) of your loss and your backprop is {worst:.4g}, but gradient_check returned {result:.4g}: use centred differences with the eps given, perturb one entry at a time and put it back'

@test_case(points=None, hidden=False)
def test_gradient_check_uses_float64(gradient_check, forward, cross_entropy_loss, backprop):
    import os
    import numpy as np
    assert gradient_check is not None, 'gradient_check is not defined: run the cell that defines it'
    for name, f in (('forward', forward), ('cross_entropy_loss', cross_entropy_loss), ('backprop', backprop)):
        assert f is not None, f'{name} is not defined: gradient_check uses it'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))

    def draw(n_in, H, m):
        P = {'W1': rng.normal(0, 0.8, (H, n_in)), 'b1': rng.normal(0, 0.3, (H, 1)), 'W2': rng.normal(0, 0.8, (10, H)), 'b2': rng.normal(0, 0.3, (10, 1))}
        return (P, rng.normal(0, 1, (n_in, m)), np.eye(10)[:, rng.integers(0, 10, size=m)])
    P, X, Y = draw(3, 2, 3)
    try:
        g = backprop(X, Y, P, forward(X, P, 'tanh')[1], 'tanh')
        wrong_shapes = any((np.shape(g['d' + k]) != P[k].shape for k in P))
    except Exception:
        wrong_shapes = False
    if wrong_shapes:
        P, X, Y = draw(10, 10, 1)
    eps = 1e-06
    probe = forward(X, P, 'tanh')
    assert probe is not None, 'forward returned None: do q8 first, gradient_check uses it'
    assert backprop(X, Y, P, probe[1], 'tanh') is not None, 'backprop returned None: do q9 first, gradient_check uses it'

    def mean_loss(Q):
        return float(np.asarray(cross_entropy_loss(forward(X, Q, 'tanh')[0], Y), dtype=np.float64))
    grads = backprop(X, Y, P, forward(X, P, 'tanh')[1], 'tanh')

    def largest_error(eps):
        worst = 0.0
        for key in ('W1', 'b1', 'W2', 'b2'):
            numeric = np.zeros_like(P[key])
            for idx in np.ndindex(P[key].shape):
                plus = {k: v.copy() for k, v in P.items()}
                minus = {k: v.copy() for k, v in P.items()}
                plus[key][idx] += eps
                minus[key][idx] -= eps
                numeric[idx] = (mean_loss(plus) - mean_loss(minus)) / (2 * eps)
            analytic = np.asarray(grads['d' + key], dtype=np.float64).reshape(numeric.shape)
            worst = max(worst, float(np.linalg.norm(numeric - analytic) / max(np.linalg.norm(numeric) + np.linalg.norm(analytic), 1e-300)))
        return worst
    worst = largest_error(eps)
    as32 = {k: v.astype(np.float32) for k, v in P.items()}
    result = gradient_check(X.astype(np.float32), Y.astype(np.float32), as32, activation='tanh')
    assert result is not None, 'gradient_check returned None: not implemented yet?'
    result = np.asarray(result, dtype=np.float64)
    assert result.size == 1, 'gradient_check must return one number'
    result = float(result)
    assert np.isfinite(result) and result >= 0, f'gradient_check returned {result}: a relative error is a finite number >= 0'
    coarse = gradient_check(X.astype(np.float32), Y.astype(np.float32), as32, activation='tanh', eps=0.3)
    truth = largest_error(0.3)
    assert coarse is not None and abs(float(np.asarray(coarse, dtype=np.float64)) - truth) <= 0.05 * truth + 1e-06, f'with float32 inputs and eps=0.3 gradient_check returned {float(np.asarray(coarse, dtype=np.float64)):.4g}, but centred differences of your loss against your backprop give {truth:.4g}: convert the inputs to float64 and use the eps given'
    if worst < 1e-05:
        assert result < 0.0001, f'with float32 inputs gradient_check reported {result:.1e}, but in float64 your functions agree to {worst:.1e}: a change of eps = 1e-6 is lost in float32 rounding, so the check must work in float64'

@test_case(points=None, hidden=True)
def test_gradient_check_hidden(gradient_check, forward, cross_entropy_loss, backprop):
    import numpy as np
    import nn_checks as ck
    assert gradient_check is not None, 'gradient_check is not defined'
    rng = ck.rng_for_test()
    for activation, eps in (('sigmoid', 1e-06), ('tanh', float(rng.uniform(0.2, 0.5)))):
        n_in, H, m = (int(rng.integers(2, 5)), int(rng.integers(2, 4)), int(rng.integers(2, 5)))
        if ck.gradients_misshapen(backprop, forward, n_in, H, m, activation):
            n_in, H, m = (10, 10, 1)
        P = ck.random_params(rng, n_in, H, scale=(0.8, 0.3, 0.8, 0.3))
        X = rng.normal(0, 1, (n_in, m))
        Y = ck.one_hot_columns(rng.integers(0, 10, size=m))
        try:
            truth = ck.gradient_check_truth(forward, cross_entropy_loss, backprop, X, Y, P, activation, eps)
        except Exception:
            truth = ck.reference_truth(X, Y, P, activation, eps)
        result = ck.arr(gradient_check(X, Y, P, activation=activation, eps=eps), "gradient_check's result")
        assert result.size == 1, 'gradient_check must return one number'
        result = float(result)
        assert np.isfinite(result) and result >= 0, f'gradient_check returned {result}: a relative error is a finite number >= 0'
        assert ck.agrees_with_truth(result, truth), f"gradient_check returned {result:.3g} for activation='{activation}', eps={eps:.3g}; centred differences of the loss against backprop give {truth:.3g}"

