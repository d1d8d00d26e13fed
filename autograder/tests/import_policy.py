from otter.test_files import test_case

OK_FORMAT = False

name = "import_policy"
points = 5

@test_case(points=None, hidden=False)
def test_only_numpy_and_matplotlib(params):
    import json
    import os
    import sys
    assert isinstance(params, dict) and 'W1' in params, 'train the network first: these points are for a model built with NumPy only'
    banned = ['torch', 'torchvision', 'tensorflow', 'keras', 'sklearn', 'jax', 'flax', 'theano', 'mxnet', 'paddle', 'cupy', 'autograd', 'lightgbm', 'xgboost']
    if os.path.exists('grading.json'):
        with open('grading.json') as f:
            banned = json.load(f).get('forbidden_modules') or banned
    found = [name for name in banned if name in sys.modules]
    assert not found, f"the notebook imported {', '.join(found)}: only NumPy, Matplotlib and the standard library are allowed for the model"

