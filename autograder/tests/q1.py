from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 2

@test_case(points=None, hidden=False)
def test_one_hot_columns(one_hot):
    import os
    import numpy as np
    assert one_hot is not None, 'one_hot is not defined: run the cell that defines it'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    labels = rng.permutation(np.arange(7) % 10)
    Y = one_hot(labels)
    assert Y is not None, 'one_hot returned None: not implemented yet?'
    Y = np.asarray(Y)
    assert Y.shape != (7, 10), 'one_hot returned shape (m, 10): samples are columns, so Y must be (10, m)'
    assert Y.shape == (10, 7), f'one_hot returned shape {Y.shape} for 7 labels, expected (10, 7)'
    is_one_hot = np.all((Y == 0) | (Y == 1)) and np.all(Y.sum(axis=0) == 1)
    assert is_one_hot, 'labels not one-hot: every column must hold a single 1 and zeros elsewhere'
    assert np.array_equal(Y.argmax(axis=0), labels), 'the 1 is in the wrong row: column i needs its 1 in row labels[i]'
    Y5 = one_hot(np.array([0, 4, 2]), n_classes=5)
    assert np.asarray(Y5).shape == (5, 3), f'one_hot(labels, n_classes=5) gave shape {np.asarray(Y5).shape}: use n_classes rows, not a fixed 10 or labels.max() + 1'

@test_case(points=None, hidden=False)
def test_preprocess_scale(preprocess):
    import os
    import numpy as np
    assert preprocess is not None, 'preprocess is not defined: run the cell that defines it'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    images = rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8)
    images[:, 0, 0] = 255
    X = preprocess(images)
    assert X is not None, 'preprocess returned None: not implemented yet?'
    X = np.asarray(X)
    assert X.shape != (5, 784), 'preprocess returned shape (m, 784): samples are columns, X must be (784, m) - transpose it'
    assert X.shape == (784, 5), f'preprocess returned shape {X.shape} for 5 images, expected (784, 5)'
    assert X.max() <= 1.0 + 1e-06, f'pixels go up to {X.max():.0f}: divide by 255 so that they lie in [0, 1]'
    assert len(np.unique(X)) > 2, 'X holds only 0s and 1s: integer division (//) instead of / 255?'
    assert X.dtype in (np.float32, np.float64), f'preprocess returned {X.dtype}: return floating-point values, float32 (half the memory) or float64'
    if np.allclose(X, images.reshape(784, 5) / 255.0, atol=1e-06):
        raise AssertionError('columns are not the flattened images: images.reshape(784, m) mixes pixels of different images; use images.reshape(m, 784).T')
    if np.allclose(X, images.transpose(0, 2, 1).reshape(5, -1).T / 255.0, atol=1e-06):
        raise AssertionError('images were flattened column by column: flatten each image row by row, images.reshape(m, 784)')
    assert np.allclose(X, images.reshape(5, -1).T / 255.0, atol=1e-06), 'column i of X must be image i flattened row by row, divided by 255'

@test_case(points=None, hidden=False)
def test_preprocess_zscore(preprocess):
    import os
    import numpy as np
    assert preprocess is not None, 'preprocess is not defined: run the cell that defines it'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    images = rng.integers(0, 256, size=(50, 28, 28), dtype=np.uint8)
    images[:, :2, :] = 0
    X = preprocess(images, method='zscore')
    assert X is not None, "preprocess(images, method='zscore') returned None: not implemented yet?"
    X = np.asarray(X, dtype=np.float64)
    assert X.shape == (784, 50), f"preprocess(..., method='zscore') returned shape {X.shape}, expected (784, m) = (784, 50)"
    assert np.all(np.isfinite(X)), 'zscore gave nan/inf where a pixel is constant (std = 0): add a small epsilon to the std'
    varying = X[56:]
    if np.allclose(X.mean(axis=0), 0, atol=0.001) and (not np.allclose(varying.mean(axis=1), 0, atol=0.001)):
        raise AssertionError('each image (column) was standardised: zscore standardises each pixel (row of X) over the m images, mean and std along axis=1')
    assert np.allclose(varying.mean(axis=1), 0, atol=0.001), 'after zscore every pixel (row of X) must have mean 0 over the images'
    assert np.allclose(varying.std(axis=1), 1, atol=0.02), 'after zscore every varying pixel (row of X) must have standard deviation 1 over the images'
    assert np.allclose(X[:56], 0, atol=1e-06), 'pixels that are 0 in every image must stay 0 after zscore'

@test_case(points=None, hidden=True)
def test_one_hot_hidden(one_hot):
    import os
    import numpy as np
    assert one_hot is not None, 'one_hot is not defined'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    for n_classes in (10, 13):
        labels = rng.integers(0, n_classes, size=int(rng.integers(20, 60))).astype(np.uint8)
        expected = np.zeros((n_classes, labels.size))
        for i, k in enumerate(labels):
            expected[k, i] = 1.0
        got = one_hot(labels, n_classes=n_classes)
        assert got is not None, 'one_hot returned None'
        got = np.asarray(got, dtype=np.float64)
        assert got.shape == expected.shape and np.array_equal(got, expected), f'one_hot is wrong for {labels.size} uint8 labels with n_classes={n_classes}'

@test_case(points=None, hidden=True)
def test_preprocess_hidden(preprocess):
    import numpy as np
    import nn_checks as ck
    assert preprocess is not None, 'preprocess is not defined'
    rng = ck.rng_for_test()
    m = int(rng.integers(3, 12))
    images = rng.integers(0, 256, size=(m, 28, 28), dtype=np.uint8)
    X = ck.arr(preprocess(images), 'preprocess(images)')
    expected = np.stack([img.ravel() for img in images], axis=1) / 255.0
    assert X.shape == expected.shape, f'preprocess(images) returned shape {X.shape} for {m} images, expected {expected.shape}'
    assert ck.close(X, expected, 1.0), f'preprocess(images) is wrong for {m} random images: column i must be image i flattened row by row, divided by 255'
    images = rng.integers(0, 256, size=(60, 28, 28), dtype=np.uint8)
    images[:, 27, :] = 0
    Z = ck.arr(preprocess(images, method='zscore'), "preprocess(..., method='zscore')")
    assert Z.shape == (784, 60), f'zscore returned shape {Z.shape}, expected (784, 60)'
    assert np.all(np.isfinite(Z)), 'zscore gave nan/inf for pixels that are 0 in every image (std = 0): add a small epsilon to the std'
    pixels = np.stack([img.ravel() for img in images], axis=1) / 255.0
    mean, std = (pixels.mean(axis=1, keepdims=True), pixels.std(axis=1, keepdims=True))
    varying = std[:, 0] > 0.05
    expected = (pixels[varying] - mean[varying]) / std[varying]
    assert np.allclose(Z[varying], expected, rtol=0.001, atol=0.001), 'zscore values differ from (x - mean) / std with the mean and std of each pixel (row of X) over the images'
    assert np.all(np.abs(Z[~varying]) < 0.001), 'pixels that are 0 in every image must stay 0 after zscore'

