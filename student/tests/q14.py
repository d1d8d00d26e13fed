from otter.test_files import test_case

OK_FORMAT = False

name = "q14"
points = 3

@test_case(points=2, hidden=False)
def test_accuracy_tier_1(params):
    import json
    import os
    import numpy as np
    import nn_data
    assert params is not None, 'params is not defined: run the training cell (params, history = train(...)) first'
    assert isinstance(params, dict) and all((k in params for k in ('W1', 'b1', 'W2', 'b2'))), 'params must be the dict returned by train, with keys W1, b1, W2, b2'
    threshold = 0.6
    dataset = 'fashion-mnist'
    if os.path.exists('grading.json'):
        with open('grading.json') as f:
            dataset = json.load(f).get('dataset', dataset)
    images, labels = nn_data.load_dataset(dataset, 'test')
    X = images.reshape(len(images), -1).T.astype(np.float64) / 255.0
    W1, b1, W2, b2 = (np.asarray(params[k], dtype=np.float64) for k in ('W1', 'b1', 'W2', 'b2'))
    assert W1.ndim == 2 and W1.shape[1] == 784 and (W2.ndim == 2) and (W2.shape == (10, W1.shape[0])), f'params have the wrong shapes: W1 {W1.shape}, W2 {W2.shape}; expected (H, 784) and (10, H)'
    scores = W2 @ np.maximum(W1 @ X + b1.reshape(-1, 1), 0) + b2.reshape(-1, 1)
    acc = float(np.mean(np.argmax(scores, axis=0) == labels))
    assert acc >= threshold, f'test accuracy {acc:.4f} is below the required {threshold:.2f}: tune hidden_neurons, learning_rate and epochs (the test uses a ReLU network on pixels / 255)'

@test_case(points=1, hidden=False)
def test_accuracy_tier_2(params):
    import json
    import os
    import numpy as np
    import nn_data
    assert params is not None, 'params is not defined: run the training cell (params, history = train(...)) first'
    assert isinstance(params, dict) and all((k in params for k in ('W1', 'b1', 'W2', 'b2'))), 'params must be the dict returned by train, with keys W1, b1, W2, b2'
    threshold = 0.85
    dataset = 'fashion-mnist'
    if os.path.exists('grading.json'):
        with open('grading.json') as f:
            dataset = json.load(f).get('dataset', dataset)
    images, labels = nn_data.load_dataset(dataset, 'test')
    X = images.reshape(len(images), -1).T.astype(np.float64) / 255.0
    W1, b1, W2, b2 = (np.asarray(params[k], dtype=np.float64) for k in ('W1', 'b1', 'W2', 'b2'))
    assert W1.ndim == 2 and W1.shape[1] == 784 and (W2.ndim == 2) and (W2.shape == (10, W1.shape[0])), f'params have the wrong shapes: W1 {W1.shape}, W2 {W2.shape}; expected (H, 784) and (10, H)'
    scores = W2 @ np.maximum(W1 @ X + b1.reshape(-1, 1), 0) + b2.reshape(-1, 1)
    acc = float(np.mean(np.argmax(scores, axis=0) == labels))
    assert acc >= threshold, f'test accuracy {acc:.4f} is below the required {threshold:.2f}: tune hidden_neurons, learning_rate and epochs (the test uses a ReLU network on pixels / 255)'

