from otter.test_files import test_case

OK_FORMAT = False

name = "q13"
points = 3

@test_case(points=None, hidden=False)
def test_predict(predict, forward):
    import os
    import numpy as np
    import nn_data
    assert predict is not None, 'predict is not defined: run the cell that defines it'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    try:
        import nn_checks as ck
    except ImportError:
        ck = None
    for _ in range(20):
        H, m = (8, int(rng.integers(11, 18)))
        params = {'W1': rng.normal(0, 0.1, (H, 784)), 'b1': rng.normal(0, 0.1, (H, 1)), 'W2': rng.normal(0, 2, (10, H)), 'b2': rng.normal(0, 0.5, (10, 1))}
        X = rng.random((784, m))
        truths = [] if ck is None else [ck.forward(X, params)[0].argmax(axis=0)]
        try:
            out = forward(X, params)
            truths.append(np.asarray(out[0], dtype=np.float64).argmax(axis=0))
        except Exception:
            pass
        if truths and len(np.unique(truths[0])) >= 3:
            break
    assert truths, 'forward fails or returned None: do q8 first, predict uses it'
    got = predict(X, params)
    assert got is not None, 'predict returned None: not implemented yet?'
    got = np.asarray(got)
    assert got.shape != (10, m), 'predict must return (m,) class labels, not the (10, m) probabilities: one label per column'
    assert got.shape != (10,), f'predict returned 10 values for {m} images: the label of a sample is the row of the largest probability in its column'
    assert got.shape == (m,), f'predict returned shape {got.shape}, expected (m,) = ({m},)'
    assert any((np.array_equal(got, t) for t in truths)), 'predict must return, for each column, the row of the largest probability forward gives'
    nn_data.golden_check('test_predict', 'labels', got, 'predict(X, params) gives other labels than expected')

@test_case(points=None, hidden=False)
def test_accuracy(accuracy):
    import os
    import numpy as np
    assert accuracy is not None, 'accuracy is not defined: run the cell that defines it'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    n, wrong = (int(rng.integers(30, 60)), int(rng.integers(3, 20)))
    labels = rng.integers(0, 10, size=n)
    predictions = labels.copy()
    predictions[:wrong] = (labels[:wrong] + 1 + rng.integers(0, 9, size=wrong)) % 10
    right = n - wrong
    got = accuracy(predictions, labels)
    assert got is not None, 'accuracy returned None: not implemented yet?'
    got = float(np.asarray(got))
    if np.isclose(got, right / n):
        return
    if np.isclose(got, 100 * right / n):
        raise AssertionError('accuracy returned a percentage: return a fraction in [0, 1]')
    if np.isclose(got, right):
        raise AssertionError('accuracy returned the number of correct predictions: divide by the number of samples')
    if np.isclose(got, wrong / n):
        raise AssertionError('accuracy returned the error rate: accuracy is the fraction of predictions that equal the labels')
    assert np.isclose(got, right / n), f'{right} of {n} predictions are right, so accuracy must be {right / n:.4f}, got {got}'

@test_case(points=None, hidden=False)
def test_confusion_matrix(confusion_matrix):
    import os
    import numpy as np
    assert confusion_matrix is not None, 'confusion_matrix is not defined: run the cell that defines it'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    size = int(rng.integers(12, 30))
    y_true = rng.integers(0, 4, size=size)
    y_pred = np.where(rng.random(size) < 0.5, y_true, rng.integers(0, 4, size=size))
    y_pred[0], y_true[0] = (1, 0)
    expected = np.zeros((4, 4), dtype=int)
    for t, p in zip(y_true, y_pred):
        expected[t, p] += 1
    cm = confusion_matrix(y_true, y_pred, n_classes=4)
    assert cm is not None, 'confusion_matrix returned None: not implemented yet?'
    cm = np.asarray(cm)
    assert cm.shape == (4, 4), f'confusion_matrix(..., n_classes=4) returned shape {cm.shape}, expected (4, 4)'
    assert cm.sum() == y_true.size, f'the counts add up to {cm.sum()}, expected one count per sample ({y_true.size})'
    if not np.array_equal(cm, expected) and np.array_equal(cm, expected.T):
        raise AssertionError('rows must be the true class: confusion_matrix looks transposed (the row is the true class, the column the predicted one)')
    assert np.array_equal(cm, expected), 'entry [i, j] must count the samples of true class i predicted as class j'
    assert np.issubdtype(cm.dtype, np.integer), f'confusion_matrix should hold integer counts, got {cm.dtype}'

@test_case(points=None, hidden=False)
def test_per_class_report(per_class_report):
    import os
    import numpy as np
    assert per_class_report is not None, 'per_class_report is not defined: run the cell that defines it'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    cm = rng.integers(0, 8, size=(3, 3))
    cm[:, 2] = 0
    cm[2, 2] = 0
    cm[2, 0] += 1
    cm[0, 0] += 1
    cm[1, 1] += 1
    col, row, tp = (cm.sum(axis=0), cm.sum(axis=1), np.diag(cm))
    precision = np.array([tp[k] / col[k] if col[k] else 0.0 for k in range(3)])
    recall = np.array([tp[k] / row[k] if row[k] else 0.0 for k in range(3)])
    f1 = np.array([2 * p * r / (p + r) if p + r else 0.0 for p, r in zip(precision, recall)])
    with np.errstate(all='ignore'):
        report = per_class_report(cm)
    assert report is not None, 'per_class_report returned None: not implemented yet?'
    assert isinstance(report, dict) and all((k in report for k in ('precision', 'recall', 'f1'))), 'per_class_report must return a dict with keys precision, recall, f1'
    P, R, F = (np.asarray(report[k], dtype=np.float64) for k in ('precision', 'recall', 'f1'))
    assert P.shape == R.shape == F.shape == (3,), 'precision, recall and f1 must each have one value per class, shape (n_classes,)'
    assert np.all(np.isfinite(P)) and np.all(np.isfinite(F)), 'precision is nan for a class that is never predicted (0 / 0): define it as 0'
    if not np.allclose(P, precision) and np.allclose(P, recall) and np.allclose(R, precision):
        raise AssertionError('precision and recall are swapped: precision counts among the predictions of a class (a column), recall among the samples of the class (a row)')
    assert np.allclose(P, precision), 'precision[k] must be the share of correct predictions among all predictions of class k'
    assert np.allclose(R, recall), "recall[k] must be the share of class k's samples that were predicted as k"
    if not np.allclose(F, f1) and np.allclose(F[:2], (precision[:2] + recall[:2]) / 2):
        raise AssertionError('f1 is the harmonic mean of precision and recall, not the arithmetic mean')
    assert np.allclose(F, f1), 'f1 must be the harmonic mean of precision and recall, and 0 when both are 0'

