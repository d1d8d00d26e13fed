from otter.test_files import test_case

OK_FORMAT = False

name = "q13"
points = 3

@test_case(points=None, hidden=False)
def test_predict(predict):
    import os
    import numpy as np
    assert predict is not None, 'predict is not defined: run the cell that defines it'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    H, m = (8, 7)
    params = {'W1': rng.normal(0, 0.1, (H, 784)), 'b1': rng.normal(0, 0.1, (H, 1)), 'W2': rng.normal(0, 1, (10, H)), 'b2': rng.normal(0, 1, (10, 1))}
    X = rng.random((784, m))
    expected = np.argmax(params['W2'] @ np.maximum(params['W1'] @ X + params['b1'], 0) + params['b2'], axis=0)
    got = predict(X, params)
    assert got is not None, 'predict returned None: not implemented yet?'
    got = np.asarray(got)
    assert got.shape != (10, m), 'predict must return (m,) class labels, not the (10, m) probabilities: take np.argmax over axis 0'
    assert got.shape != (10,), 'predict returned 10 values for 7 images: argmax over axis=1 gives one value per class, use axis=0 (one label per column)'
    assert got.shape == (m,), f'predict returned shape {got.shape}, expected (m,) = ({m},)'
    assert np.array_equal(got, expected), 'predict must return the index of the largest probability in each column'

@test_case(points=None, hidden=False)
def test_accuracy(accuracy):
    import os
    import numpy as np
    assert accuracy is not None, 'accuracy is not defined: run the cell that defines it'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    labels = rng.integers(0, 10, size=40)
    predictions = labels.copy()
    predictions[:10] = (labels[:10] + 1) % 10
    got = accuracy(predictions, labels)
    assert got is not None, 'accuracy returned None: not implemented yet?'
    got = float(np.asarray(got))
    if np.isclose(got, 75.0):
        raise AssertionError('accuracy returned 75.0: return a fraction in [0, 1], not a percentage')
    if np.isclose(got, 30.0):
        raise AssertionError('accuracy returned the number of correct predictions: divide by the number of samples')
    if np.isclose(got, 0.25):
        raise AssertionError('accuracy returned 0.25, the error rate: accuracy is the fraction of predictions that equal the labels')
    assert np.isclose(got, 0.75), f'30 of 40 predictions are right, so accuracy must be 0.75, got {got}'

@test_case(points=None, hidden=False)
def test_confusion_matrix(confusion_matrix):
    import os
    import numpy as np
    assert confusion_matrix is not None, 'confusion_matrix is not defined: run the cell that defines it'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    y_true = np.array([0, 0, 0, 1, 1, 2, 3, 3, 3, 3])
    y_pred = np.array([0, 1, 1, 1, 2, 2, 3, 0, 3, 3])
    order = rng.permutation(y_true.size)
    expected = np.array([[1, 2, 0, 0], [0, 1, 1, 0], [0, 0, 1, 0], [1, 0, 0, 3]])
    cm = confusion_matrix(y_true[order], y_pred[order], n_classes=4)
    assert cm is not None, 'confusion_matrix returned None: not implemented yet?'
    cm = np.asarray(cm)
    assert cm.shape == (4, 4), f'confusion_matrix(..., n_classes=4) returned shape {cm.shape}, expected (4, 4)'
    assert cm.sum() == y_true.size, f'the counts add up to {cm.sum()}, expected one count per sample ({y_true.size})'
    if np.array_equal(cm, expected.T):
        raise AssertionError('rows must be the true class: confusion_matrix looks transposed (cm[true, predicted] += 1)')
    assert np.array_equal(cm, expected), 'entry [i, j] must count the samples of true class i predicted as class j'
    assert np.issubdtype(cm.dtype, np.integer), f'confusion_matrix should hold integer counts, got {cm.dtype}'

@test_case(points=None, hidden=False)
def test_per_class_report(per_class_report):
    import numpy as np
    assert per_class_report is not None, 'per_class_report is not defined: run the cell that defines it'
    cm = np.array([[5, 2, 0], [1, 3, 0], [4, 0, 0]])
    precision = np.array([5 / 10, 3 / 5, 0.0])
    recall = np.array([5 / 7, 3 / 4, 0.0])
    f1 = np.array([2 * 0.5 * (5 / 7) / (0.5 + 5 / 7), 2 * 0.6 * 0.75 / 1.35, 0.0])
    with np.errstate(all='ignore'):
        report = per_class_report(cm)
    assert report is not None, 'per_class_report returned None: not implemented yet?'
    assert isinstance(report, dict) and all((k in report for k in ('precision', 'recall', 'f1'))), 'per_class_report must return a dict with keys precision, recall, f1'
    P, R, F = (np.asarray(report[k], dtype=np.float64) for k in ('precision', 'recall', 'f1'))
    assert P.shape == R.shape == F.shape == (3,), 'precision, recall and f1 must each have one value per class, shape (n_classes,)'
    assert np.all(np.isfinite(P)) and np.all(np.isfinite(F)), 'precision is nan for a class that is never predicted (0 / 0): define it as 0'
    if np.allclose(P, recall) and np.allclose(R, precision):
        raise AssertionError('precision and recall are swapped: precision divides by the column sum (all predictions of the class), recall by the row sum (all samples of the class)')
    assert np.allclose(P, precision), 'precision[k] must be cm[k, k] / (sum of column k)'
    assert np.allclose(R, recall), 'recall[k] must be cm[k, k] / (sum of row k)'
    if np.allclose(F[:2], (precision[:2] + recall[:2]) / 2):
        raise AssertionError('f1 is the harmonic mean 2 * P * R / (P + R), not the arithmetic mean')
    assert np.allclose(F, f1), 'f1 must be 2 * precision * recall / (precision + recall), and 0 when both are 0'

