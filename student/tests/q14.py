from otter.test_files import test_case

OK_FORMAT = False

name = "q14"
points = 3

@test_case(points=2, hidden=False)
def test_accuracy_tier_1(params, preprocess, predict):
    import json
    import os
    import nn_data
    threshold = 0.6
    settings = {}
    if os.path.exists('grading.json'):
        with open('grading.json') as f:
            settings = json.load(f)
    assert params is not None, 'params is not defined: run the training cell (params, history = train(...)) first'
    assert params['W1'] is not None, "params['W1'] is None: train the network first"
    acc = nn_data.test_accuracy(params, preprocess, predict, settings.get('dataset', 'fashion-mnist'), settings.get('normalisation', 'scale'))
    assert acc >= threshold, f'test accuracy {acc:.4f} is below the required {threshold:.2f}: tune hidden_neurons, learning_rate and epochs (measured on the test images through your preprocess and predict)'

@test_case(points=1, hidden=False)
def test_accuracy_tier_2(params, preprocess, predict):
    import json
    import os
    import nn_data
    threshold = 0.85
    settings = {}
    if os.path.exists('grading.json'):
        with open('grading.json') as f:
            settings = json.load(f)
    assert params is not None, 'params is not defined: run the training cell (params, history = train(...)) first'
    assert params['W1'] is not None, "params['W1'] is None: train the network first"
    acc = nn_data.test_accuracy(params, preprocess, predict, settings.get('dataset', 'fashion-mnist'), settings.get('normalisation', 'scale'))
    assert acc >= threshold, f'test accuracy {acc:.4f} is below the required {threshold:.2f}: tune hidden_neurons, learning_rate and epochs (measured on the test images through your preprocess and predict)'

