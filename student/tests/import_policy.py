from otter.test_files import test_case

OK_FORMAT = False

name = "import_policy"
points = 5

@test_case(points=None, hidden=False)
def test_only_numpy_and_matplotlib(params, preprocess, predict):
    import json
    import os
    import sys
    import nn_data
    settings = {}
    if os.path.exists('grading.json'):
        with open('grading.json') as f:
            settings = json.load(f)
    assert params is not None and params['W1'] is not None, 'train the network first: these points are for a working model built with NumPy only'
    acc = nn_data.test_accuracy(params, preprocess, predict, settings.get('dataset', 'fashion-mnist'), settings.get('normalisation', 'scale'))
    assert acc >= 0.3, f'these points are for a working network built with NumPy only, and this one classifies only {acc:.0%} of the test images'
    banned = settings.get('forbidden_modules') or ['torch', 'tensorflow', 'keras', 'sklearn', 'jax']
    allowed = settings.get('allowed_for_data') or []
    found = [name for name in banned if name in sys.modules and name not in allowed]
    assert not found, f"the notebook imported {', '.join(found)}: only NumPy, Matplotlib and the standard library are allowed for the model"

