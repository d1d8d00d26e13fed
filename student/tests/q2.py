from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 2

@test_case(points=None, hidden=False)
def test_split_keeps_fraction_of_every_class(stratified_split):
    import os
    import numpy as np
    assert stratified_split is not None, 'stratified_split is not defined: run the cell that defines it'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    counts = 20 + 3 * np.arange(10)
    labels = np.repeat(np.arange(10), counts)
    for fraction, order in ((0.5, np.arange(labels.size)), (0.3, rng.permutation(labels.size))):
        shuffled = labels[order]
        out = stratified_split(shuffled, fraction=fraction, seed=0)
        assert out is not None, 'stratified_split returned None: not implemented yet?'
        assert len(out) == 2, 'stratified_split must return two index arrays: (train_idx, val_idx)'
        train_idx, val_idx = (np.asarray(out[0]), np.asarray(out[1]))
        assert train_idx.dtype.kind in 'iu' and val_idx.dtype.kind in 'iu', 'return integer index arrays (np.flatnonzero gives them), not boolean masks or floats'
        assert np.intersect1d(train_idx, val_idx).size == 0, 'train and validation share indices: every sample must go to exactly one of them'
        both = np.sort(np.concatenate([train_idx, val_idx]))
        assert np.array_equal(both, np.arange(labels.size)), 'train_idx and val_idx together must contain every index 0 .. m-1 exactly once'
        for k in range(10):
            n_train = int(np.sum(shuffled[train_idx] == k))
            assert abs(n_train - fraction * counts[k]) <= 1, f'class {k}: {n_train} of its {counts[k]} samples are in train with fraction={fraction}, expected about {fraction * counts[k]:.0f}: split each class separately (stratify) instead of cutting the whole array'

@test_case(points=None, hidden=False)
def test_split_is_shuffled_and_seeded(stratified_split):
    import os
    import numpy as np
    assert stratified_split is not None, 'stratified_split is not defined: run the cell that defines it'
    rng = np.random.default_rng(int(os.environ.get('NNASSIGN_SEED', '0')))
    labels = rng.permutation(np.repeat(np.arange(10), 30))
    first = stratified_split(labels, fraction=0.5, seed=1)
    again = stratified_split(labels, fraction=0.5, seed=1)
    other = stratified_split(labels, fraction=0.5, seed=2)
    assert first is not None and again is not None and (other is not None), 'stratified_split returned None: not implemented yet?'
    a, b, c = (np.sort(np.asarray(out[0])) for out in (first, again, other))
    assert np.array_equal(a, b), 'the same seed gave two different splits: make the generator with np.random.default_rng(seed)'
    heads = np.sort(np.concatenate([np.flatnonzero(labels == k)[:15] for k in range(10)]))
    assert not np.array_equal(a, heads), "train holds the first samples of every class: shuffle each class's indices (with the seeded generator) before cutting"
    assert not np.array_equal(a, c), 'seed=1 and seed=2 gave the same split: the seed is ignored'

